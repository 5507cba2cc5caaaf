"""The child side of a prediction worker: isolate, load, predict, answer once, exit.

The answer is one message of raw bytes (never a pickle: the parent must not run code a model
crafted): ``K`` + float64 values, ``M`` (out of memory), or ``E`` + JSON error.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import signal
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..config import ModelSpec
from ..errors import AutopilotError, ModelError
from ..models import load_predictor

if TYPE_CHECKING:
    import pandas as pd

    from ._shared import SharedFrame

# Variables a model never sees: the API key and anything that looks like a credential.
_SECRET_NAME = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
MAX_TEXT = 4000  # characters of an error message or traceback sent back
# Bytes of an error message at most: two texts, each char at most 12 bytes as JSON escapes.
MAX_ERROR_BYTES = 2 * MAX_TEXT * 12 + 1024
OK, MEMORY, ERROR = b"K", b"M", b"E"  # first byte of a child's one message
_M_ARENA_MAX = -8  # glibc mallopt parameter
_PR_SET_PDEATHSIG = 1  # linux prctl option


# Formats that run the user's own Python code: they get a private, writable copy of the frame in
# Numerai's column order (as Numerai's hosted runner does); estimators get read-only views.
_USER_CODE = frozenset({"pickle", "joblib", "function", "entrypoint"})


@dataclass(frozen=True)
class Job:
    """What a child needs, sent to it through the fork server (the frame only as a handle)."""

    spec: ModelSpec
    format: str
    frame: SharedFrame
    benchmarks: pd.DataFrame | None
    feature_sets: Mapping[str, list[str]] | None
    threads: int
    memory_mb: int | None
    models_dir: Path | None
    stderr: StderrFd | int
    environ: dict[str, str]
    """The run's environment now, secrets removed (the fork server's is from its start)."""
    """The run's stderr as it is now (the fork server's may be older): a model's output goes
    there. A StderrFd in the run, the received file descriptor in the child."""


class StderrFd:
    """Pickles as a duplicate of the run's current stderr, received by the child as an int."""

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (_detach, (reduction.DupFd(sys.stderr.fileno()),))


def _detach(dup: Any) -> int:
    return int(dup.detach())


def child_main(job: Job, conn: Connection) -> None:
    """Run in the forked child: isolate, load and predict, send one message, then exit."""
    spec = job.spec
    try:
        _isolate(job.threads, job.memory_mb, job.stderr, job.environ)
        frame = job.frame.open(writable=job.format in _USER_CODE)
        predictor = load_predictor(spec, job.feature_sets, models_dir=job.models_dir)
        preds = predictor.predict(frame, job.benchmarks)
        values = preds.reindex(frame.index).to_numpy(dtype=np.float64)
        conn.send_bytes(OK + values.tobytes())
    except MemoryError:
        conn.send_bytes(MEMORY)
    except ModelError as exc:
        _send_error(conn, type(exc).__name__, str(exc), _trace(exc))
    except AutopilotError as exc:  # a ConfigError about this model's features
        _send_error(conn, "ModelError", str(exc), "")
    except BaseException as exc:  # noqa: BLE001  anything else from user code fails this model only
        text = f"model {spec.name!r} raised {type(exc).__name__}: {exc}"
        _send_error(conn, "ModelError", text, _trace(exc))
    finally:
        conn.close()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        # Skip interpreter shutdown: a model's leftover threads or atexit hooks must not hang
        # a worker whose result is already sent.
        os._exit(0)


def _send_error(conn: Connection, cls: str, text: str, trace: str) -> None:
    info = {"error": cls, "message": text[:MAX_TEXT], "trace": trace[-MAX_TEXT:]}
    conn.send_bytes(ERROR + json.dumps(info).encode("utf-8"))


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])


def secret_names(environ: Mapping[str, str]) -> list[str]:
    """The variables a model never sees: NUMERAI_* and anything named like a credential."""
    return [n for n in environ if n.upper().startswith("NUMERAI_") or _SECRET_NAME.search(n)]


def model_environ() -> dict[str, str]:
    """The run's current environment without the variables a model never sees."""
    hidden = set(secret_names(os.environ))
    return {k: v for k, v in os.environ.items() if k not in hidden}


def _isolate(
    threads: int, memory_mb: int | None, stderr: StderrFd | int, environ: dict[str, str]
) -> None:
    """Drop secrets from the environment, cap threads and memory, keep stdout clean."""
    with contextlib.suppress(OSError, AttributeError):
        # Die with the run: a killed run must not leave models predicting.
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    os.environ.clear()
    os.environ.update(environ)
    for name in secret_names(os.environ):  # already removed by the run; checked again here
        del os.environ[name]
    for name in _THREAD_VARS:
        os.environ[name] = str(threads)
    # Libraries already loaded (numpy's BLAS, OpenMP) read no environment: limit them directly.
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(threads)
    # A model's prints must not corrupt the run's machine-readable stdout.
    sys.stdout.flush()
    if isinstance(stderr, int):
        os.dup2(stderr, 2)
        os.close(stderr)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if memory_mb is not None:
        _limit_memory(memory_mb)


def _limit_memory(memory_mb: int) -> None:
    """Bound the data segment to what the child already has (the shared frame) plus
    ``memory_mb``. RLIMIT_DATA counts memory actually made writable, unlike RLIMIT_AS which
    also counts the large address-space reservations of threads and allocators."""
    with contextlib.suppress(OSError, AttributeError):
        # Fewer malloc arenas: each thread's arena would otherwise claim 64 MB up front.
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, 2)
    base = _vm_data_bytes()
    limit = base + memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _vm_data_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0
