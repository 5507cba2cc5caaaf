"""Prediction workers: each model predicts in its own child process.

Children fork from a clean fork server (started once, without secrets in its environment,
with pandas and numpy already imported), never from the run itself: a process that has used
OpenMP (LightGBM, XGBoost, scikit-learn) or holds threads cannot fork safely (LightGBM hangs
in such a child), and a library user's process may well have. The live frame is published
once as read-only memory-mapped blocks (see _shared.py) that every child maps: never copied
or pickled per model; models that run their own Python code get a private copy, so whatever
they do to it stays in their process. Each child runs with a timeout, a memory bound and an
environment without secrets; a crash, hang or exception fails that model only. Results (a few
thousand floats) come back through a pipe.

The fork server is Linux only (see _platform.py): elsewhere (macOS, Windows) each child is a
freshly spawned interpreter, started with secrets out of the environment it inherits. That
costs each model its imports again, and a memory bound only where the OS has RLIMIT_DATA.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _platform, errors, progress
from ..config import ModelSpec
from ..errors import AutopilotError, ModelError, WorkerError
from ..models import infer_format
from ..tournaments import Tournament
from . import _child
from ._capture import Capture
from ._child import MAX_ERROR_BYTES, MEMORY, OK, Job
from ._process import Child, context, describe_exit, start_child, stop_child, warm_up
from ._shared import SharedFrame, publish, unpublish

__all__ = ["LiveData", "PredictionResult", "predict_many", "warm_up"]

log = logging.getLogger(__name__)

_MAX_WAIT = 5.0  # the parent wakes at least this often
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
    output: str = ""  # what the model printed (stdout and stderr, bounded: see _capture.py)
    refusal: str | None = None  # why Numerai would refuse this pickle as a Model Upload


def predict_many(
    specs: Sequence[ModelSpec],
    live: Mapping[Tournament, LiveData],
    *,
    workers: int,
    timeout: float,
    memory_mb: int | None,
    on_result: Callable[[PredictionResult], None] | None = None,
    models_dir: Path | None = None,
    frames_dir: Path | None = None,
    compiled: Path | None = None,
) -> list[PredictionResult]:
    """Predict every spec, each in its own forked child, at most ``workers`` at once.

    ``timeout`` and ``memory_mb`` are the defaults for specs without their own. Returns one
    result per spec, in the order of ``specs``; ``on_result`` is called in this process as each
    finishes. A model that fails (error, crash, timeout, memory) gets a result with ``error``
    set (logged by the caller, which knows the stage); only an exception from ``on_result``
    stops the others (their children are killed). ``frames_dir``: where the live frame's
    mapped file goes without /dev/shm; ``compiled``: the cache LightGBM models may use."""
    formats = set()
    for spec in specs:
        with contextlib.suppress(AutopilotError):  # reported per model by _precheck
            formats.add(infer_format(spec))
    warm_up(formats)
    ctx = context()
    spawned = ctx.get_start_method() != "forkserver"
    workers = max(1, workers)
    cores = _platform.HOST.cpu_count()
    threads = max(1, cores // max(1, min(workers, len(specs))))
    pending = deque(enumerate(specs))
    running: dict[int, Child] = {}
    results: dict[int, PredictionResult] = {}
    captures: dict[int, Capture] = {}
    started: set[int] = set()  # children started and not yet finished (the busy workers)

    def finish(i: int, result: PredictionResult) -> None:
        if i in captures:
            result = replace(result, output=captures.pop(i).finish())
        results[i] = result
        if i in started:
            started.discard(i)
            progress.current().model_finished(
                result.name, len(started), workers, result.error is None
            )
        if result.error is None:  # a failure is logged once, by on_result's owner
            log.info(
                "model %s predicted in %.1fs",
                result.name,
                result.seconds,
                extra={"model": result.name, "stage": "predict"},
            )
        if on_result is not None:
            on_result(result)

    shared: dict[Tournament, SharedFrame] = {}
    try:
        for t in {s.tournament for s in specs if s.tournament in live}:
            # /dev/shm where the host has one (too small: publish goes to disk), else frames/.
            shared[t] = publish(live[t].frame, None if _platform.HOST.shm else frames_dir)
        while pending or running:
            while pending and len(running) < workers:
                i, spec = pending.popleft()
                problem = _precheck(spec, live)
                if problem is not None:
                    finish(i, PredictionResult(spec.name, None, problem, 0.0))
                    continue
                data = live[spec.tournament]
                job = Job(
                    spec,
                    infer_format(spec),
                    shared[spec.tournament],
                    data.benchmarks,
                    data.feature_sets,
                    threads,
                    spec.memory_mb or memory_mb,
                    models_dir,
                    (capture := Capture()).child_end(),
                    _child.model_environ(),
                    _platform.HOST,
                    compiled,
                )
                if job.memory_mb is not None:
                    _warn_unbounded()
                captures[i] = capture
                try:
                    running[i] = start_child(ctx, i, job, timeout, spawned=spawned)
                except OSError as exc:  # fork refused: no memory or process slots left
                    error = WorkerError(f"model {spec.name!r}: cannot start a worker: {exc}")
                    finish(i, PredictionResult(spec.name, None, error, 0.0))
                    continue
                finally:
                    capture.started()
                started.add(i)
                progress.current().model_started(spec.name, len(started), workers)
            if not running:
                continue
            next_deadline = min(c.deadline for c in running.values())
            wait_for = min(_MAX_WAIT, max(0.0, next_deadline - time.monotonic()))
            handles: list[Any] = [c.conn for c in running.values()]
            handles += [c.process.sentinel for c in running.values()]
            handles += [c.fileno for c in captures.values() if not c.closed]
            wait(handles, timeout=wait_for)
            for capture in captures.values():
                capture.drain()  # a model printing more than a pipe holds must not block
            for i, child in list(running.items()):
                outcome = _poll(child)
                if outcome is not None:
                    del running[i]
                    finish(i, outcome)
    finally:
        for child in running.values():
            stop_child(child, kill=True)
        for capture in captures.values():
            capture.close()
        for frame in shared.values():
            unpublish(frame)
    return [results[i] for i in range(len(specs))]


_warned_unbounded = False


def _warn_unbounded() -> None:
    """Say once per process that memory bounds are not enforced on this host."""
    global _warned_unbounded  # noqa: PLW0603
    if not _platform.HOST.rlimit_data and not _warned_unbounded:
        _warned_unbounded = True
        log.warning(
            "memory_mb is not enforced on this platform (no RLIMIT_DATA): "
            "models run without a memory bound"
        )


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


def _poll(child: Child) -> PredictionResult | None:
    """The child's result if it has finished (or was just timed out), else None."""
    message: bytes | None = None
    if child.conn.poll():
        try:
            # Raw bytes, never a pickle: the parent must not run code a model crafted.
            message = child.conn.recv_bytes(8 * len(child.frame_index) + MAX_ERROR_BYTES)
        except (EOFError, OSError):
            message = None  # died without a word (or sent garbage): the exit code tells why
    elif child.process.is_alive():
        if time.monotonic() < child.deadline:
            return None
        stop_child(child, kill=True)
        return _failed(
            child,
            WorkerError(
                f"model {child.spec.name!r} timed out after {child.timeout:g}s and was stopped "
                f"({_timeout_source(child.spec)})"
            ),
        )
    stop_child(child)
    if not message:
        return _failed(child, WorkerError(describe_exit(child)))
    return _decode(child, message)


def _timeout_source(spec: ModelSpec) -> str:
    """Where the limit that stopped ``spec`` comes from, so the message says what to raise."""
    if spec.timeout is not None:
        return "raise timeout = ... in its models.toml entry or [defaults]"
    return "raise NUMERAI_MODEL_TIMEOUT or --model-timeout, or set timeout in its models.toml entry"


def _decode(child: Child, message: bytes) -> PredictionResult:
    kind, body = message[:1], message[1:]
    name = child.spec.name
    if kind == OK:
        size = 8 * len(child.frame_index)
        if len(body) < size:
            return _failed(child, WorkerError(f"model {name!r}: worker sent a truncated result"))
        values = np.frombuffer(body[:size], dtype=np.float64)
        refusal = body[size:].decode("utf-8", errors="replace") or None
        preds = pd.Series(values.copy(), index=child.frame_index, name="prediction")
        return PredictionResult(name, preds, None, _elapsed(child), refusal=refusal)
    if kind == MEMORY:
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


def _failed(child: Child, error: ModelError) -> PredictionResult:
    return PredictionResult(child.spec.name, None, error, _elapsed(child))


def _elapsed(child: Child) -> float:
    return time.monotonic() - child.started
