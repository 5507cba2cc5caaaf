"""Prediction child processes: the fork server they start from, starting one, stopping one,
and saying how one ended. worker.py schedules them; _child.py is what runs inside."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import forkserver
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol

import pandas as pd

from .. import _platform
from ..config import ModelSpec
from ..models.formats import FORMAT_NAMES, get_format
from . import _child
from ._child import Job, child_main

_JOIN_SECONDS = 5.0  # a child that sent its result gets this long to exit before it is killed


class ProcessLike(Protocol):
    """What the workers use of a child process: a multiprocessing Process, or a child of
    the resident server (resident.RemoteProcess)."""

    @property
    def sentinel(self) -> int: ...
    @property
    def exitcode(self) -> int | None: ...
    def is_alive(self) -> bool: ...
    def kill(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...


@dataclass
class Child:
    """One running prediction child, as the parent tracks it."""

    index: int
    spec: ModelSpec
    process: ProcessLike
    conn: Connection
    started: float
    timeout: float
    memory_mb: int | None
    frame_index: pd.Index

    @property
    def deadline(self) -> float:
        return self.started + self.timeout


# The fork server imports each format's libraries (the registry's ``libraries``) once, so that
# a child does not pay the import again (1-1.5 s of CPU each for lightgbm, xgboost, sklearn on
# 2 cores; measured in benchmarks/). Importing does not start an OpenMP pool, so forking stays
# safe.
# Beyond the registry: a prepared LightGBM model needs the compiled walks (about 0.2 s:
# llvmlite and the walks' objects): once, in the server.
_EXTRA_LIBRARIES = {"compiled": ("numerai_autopilot.compiled.preload",)}
# Every worker opens the shared frame (pandas): imported once in the server, not in each
# worker (0.55-0.7 s of CPU per worker, measured, when no model library had pulled it in).
_PRELOAD: list[str] = [_child.__name__, "numerai_autopilot.run._shared"]


def warm_up(formats: Iterable[str]) -> None:
    """Start the fork server now (its imports then overlap whatever the run does next, such as
    downloading), preloading the installed libraries these model formats need. The server is
    started once per process: libraries asked for later are imported by each child instead."""
    for fmt in formats:
        spec = get_format(fmt) if fmt in FORMAT_NAMES else None
        libraries = spec.libraries if spec is not None and spec.preload else ()
        libraries = libraries or _EXTRA_LIBRARIES.get(fmt, ())
        # The loader's own module (numpy and pandas only): 10 ms a worker otherwise. A
        # prepared LightGBM model ("compiled") is read by the LightGBM loader too.
        reader = get_format("lightgbm") if fmt == "compiled" else spec
        if reader is not None and reader.preload and reader.loader is not None:
            libraries = (_loader_module(reader.loader), *libraries)
        for lib in libraries:
            if lib not in _PRELOAD and importlib.util.find_spec(lib) is not None:
                _PRELOAD.append(lib)
    context()


def _loader_module(loader: str) -> str:
    module = loader.partition(":")[0]
    return f"numerai_autopilot.models{module}" if module.startswith(".") else module


def context() -> Any:
    """The workers' multiprocessing context on this host (see _platform.py)."""
    return _context_for(_platform.HOST.start_method)


@functools.cache
def _context_for(method: str) -> Any:
    """The fork-server context, its server started once with secrets out of its environment;
    or the spawn context (its children get their environment cleaned at each start)."""
    ctx = multiprocessing.get_context(method)
    if method != "forkserver":
        return ctx
    # _pools_found last: it finds the thread pools the others loaded, once for every child.
    ctx.set_forkserver_preload([*_PRELOAD, "numerai_autopilot.run._pools_found"])
    with _sigint_ignored(), _without_secrets():
        forkserver.ensure_running()
    return ctx


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C reaches the whole process group: a process started in this block (the fork
    server and the children it forks, or a spawned child) ignores it, inherited through exec
    on POSIX, so only the run handles it (one line, no traceback per child); children still
    die with the run (PDEATHSIG, or their watch of the parent) or by its kill."""
    main = threading.current_thread() is threading.main_thread()
    old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, old)


_ENVIRON_LOCK = threading.Lock()


@contextlib.contextmanager
def _without_secrets() -> Iterator[None]:
    """The process environment without secrets while a process starts and inherits it (a
    spawned interpreter starts from the environment, not from ``Job.environ``)."""
    with _ENVIRON_LOCK:
        saved = dict(os.environ)
        try:
            for name in _child.secret_names(os.environ):
                del os.environ[name]
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def start_quietly(process: BaseProcess) -> None:
    """Start a process from the fork server with Ctrl-C ignored and no secret inherited."""
    with _sigint_ignored(), _without_secrets():
        process.start()


def preloads() -> list[str]:
    """The libraries the fork server preloads (or, started already, would have)."""
    return list(_PRELOAD)


def start_child(ctx: Any, i: int, job: Job, timeout: float, *, spawned: bool = False) -> Child:
    parent_end, child_end = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=child_main,
        args=(job, child_end),
        name=f"predict-{job.spec.name}",
        daemon=False,  # a model may use multiprocessing itself; we always reap our children
    )
    if spawned:
        with _sigint_ignored(), _without_secrets():
            process.start()
    else:
        process.start()
    child_end.close()  # the parent keeps only its end: EOF then means the child is gone
    return Child(
        index=i,
        spec=job.spec,
        process=process,
        conn=parent_end,
        started=time.monotonic(),
        timeout=job.spec.timeout or timeout,
        memory_mb=job.memory_mb,
        frame_index=job.frame.ids(),
    )


def describe_exit(child: Child) -> str:
    code = child.process.exitcode
    name = child.spec.name
    if getattr(child.process, "lost", False):
        return f"model {name!r}: its worker ended with the resident server it was forked from"
    if code is not None and code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = ""
        if -code == signal.SIGKILL:
            hint = ": out of memory?"
        elif child.memory_mb is not None and -code == signal.SIGABRT:
            hint = f": possibly over its {child.memory_mb} MB memory bound"
        return f"model {name!r} worker crashed with signal {sig}{hint}"
    return f"model {name!r} worker exited with code {code} without returning predictions"


def stop_child(child: Child, *, kill: bool = False) -> None:
    """Make sure the child is gone and its pipe closed (bounded waits only)."""
    if not kill:
        child.process.join(timeout=_JOIN_SECONDS)
    if child.process.is_alive():
        child.process.kill()
        child.process.join(timeout=_JOIN_SECONDS)
    child.conn.close()
