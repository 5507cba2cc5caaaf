"""The child side of a prediction worker: isolate, load, predict, answer once, exit.

The answer is one message of raw bytes (never a pickle: the parent must not run code a model
crafted): ``K`` + float64 values (+ a UTF-8 note: why Numerai would refuse the model as a Model
Upload), ``M`` (out of memory), or ``E`` + JSON error.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import struct
import sys
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _platform
from ..config import ModelSpec, secret_env_names
from ..errors import AutopilotError, ModelError
from ..models import Predictor, get_format, load_predictor
from . import _pools

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
EXIT_STATUS = struct.Struct("i")  # a child's exit code, as the resident server reports it


@dataclass(frozen=True)
class Job:
    """What a child needs, sent to it through the fork server or the spawn pipe (the frame
    only as a handle)."""

    spec: ModelSpec
    format: str
    frame: SharedFrame
    benchmarks: pd.DataFrame | None
    feature_sets: Mapping[str, list[str]] | None
    threads: int
    memory_mb: int | None
    models_dir: Path | None
    stderr: StderrFd | int | None
    """Where a model's output (fds 1 and 2) goes: the write end of its capture pipe (see
    _capture.py). A StderrFd in the run, the received file descriptor in the child; None:
    the stderr the child inherited."""
    environ: dict[str, str]
    """The run's environment now, secrets removed (the fork server's is from its start)."""
    host: _platform.Host
    """The run's view of the host, so that a spawned child falls back exactly as the run does."""
    compiled: Path | None = None
    """The compiled-model cache (LightGBM models use a verified entry from it), or None."""


class StderrFd:
    """Pickles as a duplicate of the run's current stderr, received by the child as an int."""

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (_detach, (reduction.DupFd(sys.stderr.fileno()),))


def _detach(dup: Any) -> int:
    return int(dup.detach())


def child_main(job: Job, conn: Connection, predictor: Predictor | None = None) -> None:
    """Run in the child (forked or spawned): isolate, load and predict, send one message, exit.
    ``predictor``: the model already loaded by the resident server this child forked from."""
    spec = job.spec
    _platform.HOST = job.host
    try:
        _isolate(job.threads, job.memory_mb, job.stderr, job.environ)
        # The user's own Python gets a private, writable copy in Numerai's column order (as
        # Numerai's hosted runner does); estimators get read-only views.
        frame = job.frame.open(writable=get_format(job.format).user_code)
        if predictor is None:
            predictor = load_predictor(
                spec, job.feature_sets, models_dir=job.models_dir, compiled=job.compiled
            )
        preds = predictor.predict(frame, job.benchmarks)
        values = preds.reindex(frame.index).to_numpy(dtype=np.float64)
        # After the values: why Numerai would refuse this pickle as a Model Upload, if it would.
        note = str(getattr(predictor, "refusal", None) or "")[:MAX_TEXT].encode("utf-8")
        conn.send_bytes(OK + values.tobytes() + note)
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
    """The variables a model never sees: NUMERAI_*, the seed's aliases of the secret ones
    (NumeraiUserName...) and anything named like a credential."""
    sealed = set(secret_env_names())
    return [
        n
        for n in environ
        if n.upper().startswith("NUMERAI_") or n in sealed or _SECRET_NAME.search(n)
    ]


def model_environ() -> dict[str, str]:
    """The run's current environment without the variables a model never sees."""
    hidden = set(secret_names(os.environ))
    return {k: v for k, v in os.environ.items() if k not in hidden}


def _isolate(
    threads: int, memory_mb: int | None, stderr: StderrFd | int | None, environ: dict[str, str]
) -> None:
    """Drop secrets from the environment, cap threads and memory, keep stdout clean."""
    # Die with the run: a killed run must not leave models predicting.
    if not _platform.HOST.die_with_parent():
        _watch_parent()
    os.environ.clear()
    os.environ.update(environ)
    for name in secret_names(os.environ):  # already removed by the run; checked again here
        del os.environ[name]
    for name in _THREAD_VARS:
        os.environ[name] = str(threads)
    # Libraries already loaded (numpy's BLAS, OpenMP) read no environment: limit them directly.
    _pools.limit(threads)
    # A model's prints must not corrupt the run's machine-readable stdout.
    sys.stdout.flush()
    if isinstance(stderr, int):  # None: a spawned child already writes to the run's stderr
        os.dup2(stderr, 2)
        os.close(stderr)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if memory_mb is not None:
        _limit_memory(memory_mb)


def _watch_parent() -> None:
    """Where the kernel cannot kill us with the run (no prctl): exit once the run is gone,
    which multiprocessing's parent sentinel tells (a pipe or a process handle)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        wait([sentinel])  # one blocking wait: ready only when the parent has exited
        os._exit(1)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _limit_memory(memory_mb: int) -> None:
    """Bound the data segment to what the child already has (the shared frame) plus
    ``memory_mb``. RLIMIT_DATA counts memory actually made writable, unlike RLIMIT_AS which
    also counts the large address-space reservations of threads and allocators. Where the
    host has no RLIMIT_DATA (Windows) or no way to measure the base, there is no bound (the
    run says so once)."""
    host = _platform.HOST
    host.limit_arenas()
    base = host.data_bytes()
    if base is not None:
        host.limit_data(base + memory_mb * 1024 * 1024)
