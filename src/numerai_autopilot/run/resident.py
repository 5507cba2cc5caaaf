"""Resident mode: in a long-lived process (``schedule``, ``serve``) one server process keeps
the model libraries and the loaded models between runs, and every prediction child forks from
it, inheriting both (copy-on-write): a round's run starts predicting once its data is there.

- Which models are kept: native formats that run no user code (:data:`RESIDENT_FORMATS`).
  Pickles and entry points run the user's own Python, which must not run in a process that
  every other model forks from: they load in their own child as in a one-off run (from the
  warm server, with its libraries imported).
- Keyed by the artifact's sha256 (re-hashed only when its inode, size, mtime or ctime change),
  the entry's settings and, for ``features = "<set>"``, the set's columns: a changed artifact
  or entry is loaded again, never used stale; a model gone from the models file is dropped.
- Memory: the server's RSS is measured after each load; past ``resident_memory_mb`` (or a
  model's own ``memory_mb``) the model is not kept and loads per run. Each child still gets
  its memory bound on top of what it starts with.
- A server that died is replaced at the next run (logged); one that dies during a run costs
  that run's models in flight only their resident start: they are started again the usual way.
- Linux fork-server mode only; in the portable (spawn) mode runs stay per run as before.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from multiprocessing import reduction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ModelSpec
from ._resident_parts import (
    RESIDENT_FORMATS,
    Keys,
    RemoteProcess,
    Stats,
    clear_state,
    describe,
    read_state,
    report_line,
    write_state,
)

if TYPE_CHECKING:
    from ..config import Settings
    from ..tournaments import Tournament
    from ._child import Job
    from ._process import Child
    from .worker import LiveData

__all__ = [
    "RESIDENT_FORMATS",
    "Resident",
    "current",
    "describe",
    "for_settings",
    "read_state",
    "using",
]

log = logging.getLogger(__name__)

_REPLY_SECONDS = 600.0  # loading every model once may take this long; then the server is dropped


class Resident:
    """The resident server of this process and the models it holds."""

    def __init__(self, memory_mb: int, state_path: Path | None = None) -> None:
        self.memory_mb = memory_mb
        self.state_path = state_path
        self.stats = Stats()
        self._lock = threading.RLock()
        self._process: Any = None
        self._conn: Any = None
        self._keys: dict[str, str] = {}  # model name -> key of its loaded model
        self._keyer = Keys()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    # -- the server ------------------------------------------------------------------------

    def _ensure(self, libraries: Sequence[str]) -> None:
        if self._process is not None and self._process.is_alive():
            return
        if self._process is not None:
            log.warning(
                "the resident server (pid %s) ended with exit code %s: starting a new one",
                self._process.pid,
                self._process.exitcode,
            )
            self._drop()
        from ._process import context, start_quietly
        from ._resident_server import server_main

        ctx = context()
        self._conn, child_end = ctx.Pipe(duplex=True)
        self._process = ctx.Process(
            target=server_main, args=(child_end, list(libraries)), name="resident-server"
        )
        start_quietly(self._process)
        child_end.close()
        self._keys.clear()
        self.stats.servers += 1
        self.stats.loads = 0
        log.info("resident server started (pid %s)", self._process.pid)

    def _ask(self, message: tuple[Any, ...], fds: Sequence[int] = ()) -> Any:
        """Send one request and wait for its answer; a dead or silent server is dropped."""
        try:
            self._conn.send(message)
            if fds:
                with socket.fromfd(self._conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    reduction.sendfds(s, list(fds))
            if not self._conn.poll(_REPLY_SECONDS):
                raise TimeoutError("no answer")
            return self._conn.recv()
        except (OSError, EOFError, TimeoutError) as exc:
            log.warning("the resident server stopped answering (%s): it will be replaced", exc)
            self._drop()
            return None

    def _drop(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        self._keys.clear()
        if conn is not None:
            conn.close()
        if process is not None:
            process.join(timeout=5.0)
            if process.is_alive():
                process.kill()
                process.join(timeout=5.0)

    def close(self) -> None:
        """Stop the server (the next run would start a new one) and remove its state file."""
        with self._lock:
            started = self.pid is not None
            self._drop()
            if started and self.state_path is not None:
                clear_state(self.state_path)
        atexit.unregister(self.close)

    # -- models ----------------------------------------------------------------------------

    def prepare(
        self,
        specs: Sequence[tuple[ModelSpec, str]],
        live: Mapping[Tournament, LiveData],
        *,
        libraries: Sequence[str],
        models_dir: Path | None,
        compiled: Path | None,
        memory_mb: int | None,
    ) -> dict[str, str]:
        """Start (or replace) the server, load what is due and not loaded (each (spec, format)
        pair); returns the key of each model now loaded, by name."""
        with self._lock:
            self._ensure(libraries)
            entries = [
                e
                for spec, fmt in specs
                if (
                    e := self._keyer.entry(
                        spec,
                        fmt,
                        live=live,
                        models_dir=models_dir,
                        compiled=compiled,
                        memory_mb=memory_mb,
                    )
                )
            ]
            for e in entries:
                if self._keys.get(e.spec.name) not in (None, e.key):
                    self._keys.pop(e.spec.name)  # changed: the old one is dropped below
            keep = set(self._keys.values()) | {e.key for e in entries}
            answer = self._ask(("load", entries, self.memory_mb, keep))
            if answer is None:
                return {}
            _, statuses, self.stats.rss_mb, self.stats.loads = answer
            for e in entries:
                status = statuses.get(e.key, "failed")
                self.stats.statuses[e.spec.name] = status
                if status.startswith(("kept", "loaded")):
                    self._keys[e.spec.name] = e.key
                else:
                    self._keys.pop(e.spec.name, None)
            self._report()
            return {e.spec.name: e.key for e in entries if self._keys.get(e.spec.name) == e.key}

    def retain(self, names: set[str]) -> None:
        """Drop the models not named (gone from the models file)."""
        with self._lock:
            gone = [n for n in self._keys if n not in names]
            if not gone or self._conn is None:
                return
            for n in gone:
                del self._keys[n]
                self.stats.statuses.pop(n, None)
            answer = self._ask(("load", [], self.memory_mb, set(self._keys.values())))
            if answer is not None:
                self.stats.rss_mb = answer[2]
            log.info("resident server dropped %s", ", ".join(sorted(gone)))

    def _report(self) -> None:
        """One log line per run, and ``<state>/resident.json`` for ``status``."""
        state = {
            "pid": self.pid,
            "rss_mb": round(self.stats.rss_mb, 1),
            "limit_mb": self.memory_mb,
            "models": {n: self.stats.statuses[n] for n in sorted(self._keys)},
        }
        out = {n: s for n, s in self.stats.statuses.items() if n not in self._keys}
        log.info("%s", report_line(state, out))
        if self.state_path is not None:
            write_state(self.state_path, state)

    # -- children --------------------------------------------------------------------------

    def start_child(self, i: int, job: Job, timeout: float, key: str | None) -> Child | None:
        """Fork ``job``'s child from the server (with its loaded model when ``key`` is one);
        None when the server cannot (the caller starts the child the usual way)."""
        import multiprocessing
        import time

        from ._process import Child

        with self._lock:
            if self._conn is None:
                return None
            out = getattr(job.stderr, "fd", None)
            parent_end, child_end = multiprocessing.Pipe(duplex=False)
            status_r, status_w = os.pipe()
            try:
                fds = (child_end.fileno(), sys.stderr.fileno() if out is None else out, status_w)
                answer = self._ask(("fork", key, replace(job, stderr=None)), fds)
            finally:
                child_end.close()
                os.close(status_w)
            if answer is None:
                parent_end.close()
                os.close(status_r)
                return None
            return Child(
                index=i,
                spec=job.spec,
                process=RemoteProcess(int(answer[1]), status_r),
                conn=parent_end,
                started=time.monotonic(),
                timeout=job.spec.timeout or timeout,
                memory_mb=job.memory_mb,
                frame_index=job.frame.ids(),
            )


_current: Resident | None = None


def current() -> Resident | None:
    """The resident server the run in progress forks from (see :func:`using`), if any."""
    return _current


def for_settings(settings: Settings) -> Resident | None:
    """A resident server for a long-lived command (``schedule``, ``serve``), unless
    ``NUMERAI_RESIDENT=0`` or the workers are spawned (portable mode, macOS, Windows). It
    starts at its first run and stops at :meth:`Resident.close` or at the process's exit."""
    from .. import _platform

    if not settings.resident or settings.worker_mode == "portable":
        return None
    if _platform.HOST.start_method != "forkserver":
        return None
    import multiprocessing.util  # noqa: F401  its exit hook (joining children) registers first

    resident = Resident(settings.resident_memory_mb, settings.state_path)
    atexit.register(resident.close)  # so this runs first: else that join would wait forever
    return resident


@contextlib.contextmanager
def using(resident: Resident | None) -> Iterator[None]:
    """Runs inside the block fork their workers from ``resident`` (None: the usual way)."""
    global _current  # noqa: PLW0603
    previous, _current = _current, resident
    try:
        yield
    finally:
        _current = previous
