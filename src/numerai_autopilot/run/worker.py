"""Prediction workers: each model predicts in its own child process.

Children are forked, so they inherit the loaded live frame copy-on-write: it is never copied
or pickled per model, and whatever a model does to its frame stays in its own process (the
parent's frame, and every sibling's, is out of its reach). Each child runs with a timeout, a
memory bound and an environment without secrets; a crash, hang or exception fails that model
only. Results (a few thousand floats) come back through a pipe.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import multiprocessing
import os
import re
import resource
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import errors
from ..config import ModelSpec
from ..errors import AutopilotError, ModelError, WorkerError
from ..models import infer_format, load_predictor
from ..tournaments import Tournament

log = logging.getLogger(__name__)

# Variables a model never sees: the API key and anything that looks like a credential.
_SECRET_NAME = re.compile(r"SECRET|KEY|TOKEN|PASSWORD|CREDENTIAL", re.IGNORECASE)
_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
_JOIN_SECONDS = 5.0  # a child that sent its result gets this long to exit before it is killed
_MAX_WAIT = 5.0  # the parent wakes at least this often
_MAX_TEXT = 4000  # characters of an error message or traceback sent back
_OK, _MEMORY, _ERROR = b"K", b"M", b"E"  # first byte of a child's one message
_M_ARENA_MAX = -8  # glibc mallopt parameter
_PR_SET_PDEATHSIG = 1  # linux prctl option
_ERROR_CLASSES: dict[str, type[ModelError]] = {
    c.__name__: c
    for c in (
        errors.ModelError,
        errors.ArtifactChangedError,
        errors.MissingExtraError,
        errors.MissingFeatureError,
        errors.WorkerError,
    )
}


@dataclass(frozen=True)
class LiveData:
    """The live data of one tournament, loaded once by the run and shared by every model."""

    frame: pd.DataFrame
    """Index: the live ids (named id, numerai_ticker or symbol); the feature columns."""
    benchmarks: pd.DataFrame | None = None
    """live_benchmark_models, for Model Upload functions that take it."""
    feature_sets: Mapping[str, list[str]] | None = None
    """features.json's feature sets, to resolve ``features = "<set name>"``."""


@dataclass(frozen=True)
class PredictionResult:
    """One model's outcome: predictions, or the error that stopped it."""

    name: str
    predictions: pd.Series | None
    error: ModelError | None
    seconds: float


@dataclass
class _Child:
    index: int
    spec: ModelSpec
    process: BaseProcess
    conn: Connection
    started: float
    timeout: float
    memory_mb: int | None
    frame_index: pd.Index

    @property
    def deadline(self) -> float:
        return self.started + self.timeout


def predict_many(
    specs: Sequence[ModelSpec],
    live: Mapping[Tournament, LiveData],
    *,
    workers: int,
    timeout: float,
    memory_mb: int | None,
    on_result: Callable[[PredictionResult], None] | None = None,
    models_dir: Path | None = None,
) -> list[PredictionResult]:
    """Predict every spec, each in its own forked child, at most ``workers`` at once.

    ``timeout`` and ``memory_mb`` are the defaults for specs without their own. Returns one
    result per spec, in the order of ``specs``; ``on_result`` is called in this process as each
    finishes. A model that fails (error, crash, timeout, memory) gets a result with ``error``
    set; only an exception from ``on_result`` stops the others (their children are killed).
    """
    ctx = multiprocessing.get_context("fork")
    workers = max(1, workers)
    cores = len(os.sched_getaffinity(0))
    threads = max(1, cores // max(1, min(workers, len(specs))))
    pending = deque(enumerate(specs))
    running: dict[int, _Child] = {}
    results: dict[int, PredictionResult] = {}

    def finish(i: int, result: PredictionResult) -> None:
        results[i] = result
        if result.error is not None:
            log.warning("model %s failed: %s", result.name, result.error)
        else:
            log.info("model %s predicted in %.1fs", result.name, result.seconds)
        if on_result is not None:
            on_result(result)

    try:
        while pending or running:
            while pending and len(running) < workers:
                i, spec = pending.popleft()
                problem = _precheck(spec, live)
                if problem is not None:
                    finish(i, PredictionResult(spec.name, None, problem, 0.0))
                    continue
                job = _Job(
                    spec, live[spec.tournament], threads, spec.memory_mb or memory_mb, models_dir
                )
                try:
                    running[i] = _start(ctx, i, job, timeout)
                except OSError as exc:  # fork refused: no memory or process slots left
                    error = WorkerError(f"model {spec.name!r}: cannot start a worker: {exc}")
                    finish(i, PredictionResult(spec.name, None, error, 0.0))
            if not running:
                continue
            next_deadline = min(c.deadline for c in running.values())
            wait_for = min(_MAX_WAIT, max(0.0, next_deadline - time.monotonic()))
            handles: list[Any] = [c.conn for c in running.values()]
            handles += [c.process.sentinel for c in running.values()]
            wait(handles, timeout=wait_for)
            for i, child in list(running.items()):
                outcome = _poll(child)
                if outcome is not None:
                    del running[i]
                    finish(i, outcome)
    finally:
        for child in running.values():
            _stop(child, kill=True)
    return [results[i] for i in range(len(specs))]


def _precheck(spec: ModelSpec, live: Mapping[Tournament, LiveData]) -> ModelError | None:
    if spec.tournament not in live:
        return ModelError(f"model {spec.name!r}: no live data loaded for {spec.tournament.label}")
    try:
        fmt = infer_format(spec)
    except AutopilotError as exc:
        return exc if isinstance(exc, ModelError) else ModelError(str(exc))
    if fmt == "blend":
        return ModelError(f"model {spec.name!r} is a blend: blend its components' predictions")
    return None


@dataclass(frozen=True)
class _Job:
    """What a child needs; inherited through fork, never pickled."""

    spec: ModelSpec
    data: LiveData
    threads: int
    memory_mb: int | None
    models_dir: Path | None


def _start(ctx: Any, i: int, job: _Job, timeout: float) -> _Child:
    parent_end, child_end = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_child_main,
        args=(job, child_end),
        name=f"predict-{job.spec.name}",
        daemon=False,  # a model may use multiprocessing itself; we always reap our children
    )
    process.start()
    child_end.close()  # the parent keeps only its end: EOF then means the child is gone
    return _Child(
        index=i,
        spec=job.spec,
        process=process,
        conn=parent_end,
        started=time.monotonic(),
        timeout=job.spec.timeout or timeout,
        memory_mb=job.memory_mb,
        frame_index=job.data.frame.index,
    )


def _poll(child: _Child) -> PredictionResult | None:
    """The child's result if it has finished (or was just timed out), else None."""
    message: bytes | None = None
    if child.conn.poll():
        try:
            # Raw bytes, never a pickle: the parent must not run code a model crafted.
            message = child.conn.recv_bytes(8 * len(child.frame_index) + _MAX_TEXT * 4 + 1024)
        except (EOFError, OSError):
            message = None  # died without a word (or sent garbage): the exit code tells why
    elif child.process.is_alive():
        if time.monotonic() < child.deadline:
            return None
        _stop(child, kill=True)
        return _failed(
            child,
            WorkerError(
                f"model {child.spec.name!r} timed out after {child.timeout:g}s and was stopped"
            ),
        )
    _stop(child)
    if not message:
        return _failed(child, WorkerError(_describe_exit(child)))
    return _decode(child, message)


def _decode(child: _Child, message: bytes) -> PredictionResult:
    kind, body = message[:1], message[1:]
    name = child.spec.name
    if kind == _OK:
        values = np.frombuffer(body, dtype=np.float64) if len(body) % 8 == 0 else np.empty(0)
        if len(values) != len(child.frame_index):
            return _failed(child, WorkerError(f"model {name!r}: worker sent a truncated result"))
        preds = pd.Series(values.copy(), index=child.frame_index, name="prediction")
        return PredictionResult(name, preds, None, _elapsed(child))
    if kind == _MEMORY:
        return _failed(
            child,
            WorkerError(
                f"model {name!r} exceeded {child.memory_mb} MB of memory "
                "(raise memory_mb for this model if it needs more)"
            ),
        )
    try:
        info = json.loads(body.decode("utf-8"))
        cls = _ERROR_CLASSES.get(str(info["error"]), ModelError)
        text, trace = str(info["message"]), str(info.get("trace", ""))
    except (ValueError, KeyError, TypeError):
        return _failed(child, WorkerError(f"model {name!r}: worker sent a malformed result"))
    if trace:
        log.debug("model %s traceback:\n%s", name, trace)
    return _failed(child, cls(text))


def _describe_exit(child: _Child) -> str:
    code = child.process.exitcode
    name = child.spec.name
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = ""
        if -code == signal.SIGKILL:
            hint = ": out of memory?"
        elif child.memory_mb is not None and -code == signal.SIGABRT:
            hint = f": possibly over its {child.memory_mb} MB memory bound"
        return f"model {name!r} worker crashed with signal {sig}{hint}"
    return f"model {name!r} worker exited with code {code} without returning predictions"


def _failed(child: _Child, error: ModelError) -> PredictionResult:
    return PredictionResult(child.spec.name, None, error, _elapsed(child))


def _elapsed(child: _Child) -> float:
    return time.monotonic() - child.started


def _stop(child: _Child, *, kill: bool = False) -> None:
    """Make sure the child is gone and its pipe closed (bounded waits only)."""
    if not kill:
        child.process.join(timeout=_JOIN_SECONDS)
    if child.process.is_alive():
        child.process.kill()
        child.process.join(timeout=_JOIN_SECONDS)
    child.conn.close()


# ---------------------------------------------------------------------------------------------
# In the child


def _child_main(job: _Job, conn: Connection) -> None:
    spec, data = job.spec, job.data
    try:
        _isolate(job.threads, job.memory_mb)
        predictor = load_predictor(spec, data.feature_sets, models_dir=job.models_dir)
        preds = predictor.predict(data.frame, data.benchmarks)
        values = preds.reindex(data.frame.index).to_numpy(dtype=np.float64)
        conn.send_bytes(_OK + values.tobytes())
    except MemoryError:
        conn.send_bytes(_MEMORY)
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
    info = {"error": cls, "message": text[:_MAX_TEXT], "trace": trace[-_MAX_TEXT:]}
    conn.send_bytes(_ERROR + json.dumps(info).encode("utf-8"))


def _trace(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])


def _isolate(threads: int, memory_mb: int | None) -> None:
    """Drop secrets from the environment, cap threads and memory, keep stdout clean."""
    with contextlib.suppress(OSError, AttributeError):
        # Die with the run: a killed run must not leave models predicting.
        ctypes.CDLL("libc.so.6").prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    for name in list(os.environ):
        if name.upper().startswith("NUMERAI_") or _SECRET_NAME.search(name):
            del os.environ[name]
    for name in _THREAD_VARS:
        os.environ[name] = str(threads)
    # Libraries already loaded (numpy's BLAS, OpenMP) read no environment: limit them directly.
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

        threadpool_limits(threads)
    # A model's prints must not corrupt the run's machine-readable stdout.
    sys.stdout.flush()
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
