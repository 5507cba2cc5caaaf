"""The resident server's own side: the process that keeps model libraries and loaded models
between runs and forks each prediction child from itself, so the child inherits them
(copy-on-write) instead of importing and loading again.

It is started from the clean fork server (no secrets, no threads of the run) and speaks one
protocol over a socket pair with the process that started it (resident.py):

- ``("load", entries, limit_mb, keep)``: load what is missing, drop what ``keep`` does not
  name; answers ``("loaded", {key: status}, rss_mb, loads)``;
- ``("fork", key, job)`` followed by three file descriptors (the result pipe, the model's
  output pipe, the exit-status pipe): fork a child that predicts with the loaded model (or
  loads it itself when ``key`` is not loaded); answers ``("forked", pid)``. When the child
  ends, its exit code (4 bytes) is written to the status pipe, which is then closed: EOF
  without a code means this server is gone.
- ``("ping",)``: ``("pong", pid, rss_mb, loads)``. EOF: exit.

Models are loaded with OpenMP limited to one thread: LightGBM parses trees in an OpenMP
region, whose idle pool a forked child cannot use (it hangs); a one-thread region starts none.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import gc
import os
import signal
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .. import _platform
from ..config import ModelSpec
from ..fileio import sha256_file
from ..models import load_predictor
from . import _pools
from ._child import EXIT_STATUS as STATUS
from ._child import Job, child_main

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Entry:
    """One model to keep loaded, as the run describes it."""

    key: str
    spec: ModelSpec
    sha256: str
    feature_sets: Mapping[str, list[str]] | None
    models_dir: Path | None
    compiled: Path | None
    memory_mb: int | None
    """The model's own memory bound: a load that grows the server more is not kept."""


def rss_mb() -> float:
    """This process's resident set in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Server:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.models: dict[str, Any] = {}
        self.loads = 0
        self.children: dict[int, int] = {}  # pid -> write end of its status pipe
        self.sig_r, self.sig_w = os.pipe()

    def serve(self) -> None:
        os.set_blocking(self.sig_r, False)
        os.set_blocking(self.sig_w, False)
        signal.set_wakeup_fd(self.sig_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the wait below
        while True:
            ready = wait([self.conn, self.sig_r])
            if self.sig_r in ready:
                with contextlib.suppress(OSError):
                    os.read(self.sig_r, 4096)
                self.reap()
            if self.conn in ready:
                try:
                    message = self.conn.recv()
                except (EOFError, OSError):
                    return  # the run is gone: so are we (and, by PDEATHSIG, our children)
                self.handle(message)

    def handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "load":
            _, entries, limit_mb, keep = message
            statuses = self.load(entries, limit_mb, keep)
            self.conn.send(("loaded", statuses, rss_mb(), self.loads))
        elif kind == "fork":
            _, key, job = message
            with socket.fromfd(self.conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as s:
                result_w, output_w, status_w = reduction.recvfds(s, 3)
            self.conn.send(("forked", self.fork(key, job, result_w, output_w, status_w)))
        elif kind == "ping":
            self.conn.send(("pong", os.getpid(), rss_mb(), self.loads))

    def load(self, entries: list[Entry], limit_mb: int, keep: set[str] | None) -> dict[str, str]:
        gone = [k for k in self.models if keep is not None and k not in keep]
        for key in gone:
            del self.models[key]
        if gone:  # a full collection costs ~0.1 s: only when something was let go
            _release()
        statuses: dict[str, str] = {}
        loads_before = self.loads
        for e in entries:
            if e.key in self.models:
                statuses[e.key] = "kept"
                continue
            statuses[e.key] = self._load_one(e, limit_mb)
        if self.loads != loads_before:  # what the loads imported, found once for the children
            _pools.find()
        return statuses

    def _load_one(self, e: Entry, limit_mb: int) -> str:
        before = rss_mb()
        if before > limit_mb:
            return "memory"
        started = time.monotonic()
        try:
            predictor = load_predictor(
                e.spec, e.feature_sets, models_dir=e.models_dir, compiled=e.compiled
            )
            # Never keep what the file no longer is: it changed while we read it.
            if e.spec.artifact is not None and sha256_file(e.spec.artifact) != e.sha256:
                return "changed"
        except Exception as exc:  # noqa: BLE001  the child loads it again and reports the error
            return f"failed: {type(exc).__name__}"
        self.loads += 1
        grown = rss_mb() - before
        if rss_mb() > limit_mb or (e.memory_mb is not None and grown > e.memory_mb):
            del predictor
            _release()
            return "memory"
        self.models[e.key] = predictor
        return f"loaded in {time.monotonic() - started:.2f}s, {grown:.0f} MB"

    def fork(self, key: str | None, job: Job, result_w: int, output_w: int, status_w: int) -> int:
        predictor = self.models.get(key) if key is not None else None
        pid = os.fork()
        if pid == 0:  # the prediction child
            try:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (self.sig_r, self.sig_w, status_w, *self.children.values()):
                    os.close(fd)
                self.conn.close()
                child_main(
                    dataclasses.replace(job, stderr=output_w),
                    Connection(result_w, readable=False),
                    predictor=predictor,
                )
            finally:
                os._exit(1)
        os.close(result_w)
        os.close(output_w)
        self.children[pid] = status_w
        return pid

    def reap(self) -> None:
        for _ in range(10_000):  # bounded: at most every child there is
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            fd = self.children.pop(pid, None)
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.write(fd, STATUS.pack(os.waitstatus_to_exitcode(status)))
                os.close(fd)


def _release() -> None:
    """Give freed model memory back to the system, so the RSS measured next is honest."""
    gc.collect()
    libc = _platform.HOST.libc
    if libc is not None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(libc).malloc_trim(0)


def server_main(conn: Connection, libraries: list[str]) -> None:
    """The resident server's process: import ``libraries``, then serve until EOF."""
    import importlib

    _platform.HOST.die_with_parent()
    for name in _THREAD_VARS:  # libraries loaded from now on start with one thread
        os.environ[name] = "1"
    for lib in libraries:
        with contextlib.suppress(Exception):
            importlib.import_module(lib)
    _pools.limit(1)  # and those already loaded to one: see the docstring, a child must not hang
    _pools.find()
    _Server(conn).serve()
