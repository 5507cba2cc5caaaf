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
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _platform, progress
from ..config import ModelSpec
from ..errors import AutopilotError, ModelError, WorkerError
from ..models import get_format, infer_format, names_feature_set
from ..tournaments import Tournament
from . import _child, resident
from ._capture import Capture
from ._child import Job
from ._process import Child, context, preloads, start_child, stop_child, warm_up
from ._results import PredictionResult, poll
from ._shared import SharedFrame, publish, unpublish

__all__ = ["LiveData", "PredictionResult", "predict_many", "warm_up"]

log = logging.getLogger(__name__)

_MAX_WAIT = 5.0  # the parent wakes at least this often


@dataclass(frozen=True)
class LiveData:
    """The live data of one tournament, loaded once by the run and shared by every model."""

    frame: pd.DataFrame
    """Index: the live ids (named id, numerai_ticker or symbol); the feature columns."""
    benchmarks: pd.DataFrame | None = None
    """live_benchmark_models, for Model Upload functions that take it."""
    feature_sets: Mapping[str, list[str]] | None = None
    """features.json's feature sets, to resolve ``features = "<set name>"``."""


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
    warm = None if spawned else resident.current()  # schedule and serve keep a server
    keys: dict[str, str] = {}
    lost: set[int] = set()  # forked from a resident server that died: started again once
    try:
        for t in {s.tournament for s in specs if s.tournament in live}:
            # /dev/shm where the host has one (too small: publish goes to disk), else frames/.
            shared[t] = publish(live[t].frame, None if _platform.HOST.shm else frames_dir)
        if warm is not None:
            keys = warm.prepare(
                [(s, f) for s in specs if _precheck(s, live) is None and (f := infer_format(s))],
                live,
                libraries=preloads(),
                models_dir=models_dir,
                compiled=compiled,
                memory_mb=memory_mb,
            )
        while pending or running:
            while pending and len(running) < workers:
                i, spec = pending.popleft()
                problem = _precheck(spec, live)
                if problem is not None:
                    finish(i, PredictionResult(spec.name, None, problem, 0.0))
                    continue
                data = live[spec.tournament]
                fmt = infer_format(spec)
                job = Job(
                    spec,
                    fmt,
                    shared[spec.tournament],
                    data.benchmarks if get_format(fmt).user_code else None,
                    _sets_for(spec, data.feature_sets),
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
                    child = None
                    if warm is not None and i not in lost:
                        child = warm.start_child(i, job, timeout, keys.get(spec.name))
                    running[i] = child or start_child(ctx, i, job, timeout, spawned=spawned)
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
                outcome = poll(child)
                if outcome is None:
                    continue
                del running[i]
                if getattr(child.process, "lost", False) and i not in lost:
                    lost.add(i)  # not the model's fault: once more, the usual way
                    captures.pop(i).close()
                    started.discard(i)
                    pending.appendleft((i, child.spec))
                    continue
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


def _sets_for(
    spec: ModelSpec, sets: Mapping[str, list[str]] | None
) -> Mapping[str, list[str]] | None:
    """What of features.json a worker needs: the set its entry names (every set only when
    that name is not one of them, for the error to list them). Each job is pickled to its
    worker: the whole file's sets were 0.36 MB each time, for one list or none."""
    name = spec.features
    if sets is None or name is None or not names_feature_set(spec):
        return None
    return {name: sets[name]} if name in sets else sets


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
