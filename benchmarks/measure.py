"""Measuring a group of processes: wall time, CPU time of the whole tree, peak memory.

CPU time comes from ``getrusage(RUSAGE_CHILDREN)``, which counts every descendant that was
waited for. The autopilot's prediction workers are children of a fork server that outlives the
CLI by a moment and would be re-parented to init, taking its CPU time with it; so this process
makes itself a *child subreaper* (Linux prctl), adopts such orphans and reaps them: nothing is
lost. Peak memory is polled (every 20 ms) over all descendants: the sum of RSS, and the sum of
PSS (proportional set size: a page shared by k processes counts 1/k in each), which is the
honest total when workers map the same live frame.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import psutil  # type: ignore[import-untyped]

_PR_SET_CHILD_SUBREAPER = 36
# 0.5 s, smaps_rollup and /proc children files (not psutil): the old 20 ms poller used 2.5-6 s
# of CPU per case on the same 2 cores it measured. Its own CPU is measured (poller_cpu).
_POLL = 0.5
_REAP_SECONDS = 15.0


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


@dataclass(frozen=True)
class Job:
    """One process to run: its command, environment and where its output goes."""

    argv: Sequence[str]
    env: Mapping[str, str]
    log: Path


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_rss: int
    peak_pss: int
    exit_codes: list[int] = field(default_factory=list)
    poller_cpu: float = 0.0
    """CPU seconds the memory poller itself used (its thread's time)."""


class _Poller(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True, name="bench-poller")
        self.stop = threading.Event()
        self.peak_rss = 0
        self.peak_pss = 0
        self.cpu = 0.0
        self.me = psutil.Process()

    def run(self) -> None:
        t0 = time.thread_time()
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(_POLL)
        self.cpu = time.thread_time() - t0

    def sample(self) -> None:
        rss = pss = 0
        for pid in _descendants(self.me):
            got = _rollup(pid)
            if got is None:
                try:
                    info = psutil.Process(pid).memory_info()
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                got = (info.rss, info.rss)
            rss += got[0]
            pss += got[1]
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)


def _descendants(me: psutil.Process) -> list[int]:
    """Every descendant's pid, from /proc/<pid>/task/<tid>/children (no scan of all of /proc,
    which psutil's children() makes: most of the poller's cost on a busy machine)."""
    out: list[int] = []
    todo = [me.pid]
    while todo and len(out) < 10_000:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                if pid == me.pid:  # no /proc children files: psutil's way
                    return [c.pid for c in me.children(recursive=True)]
                continue
            out += kids
            todo += kids
    return out


def _rollup(pid: int) -> tuple[int, int] | None:
    """(rss, pss) in bytes from /proc/<pid>/smaps_rollup (Linux >= 4.14), else None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            text = f.read()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        if line.startswith((b"Rss:", b"Pss:")):
            name, kb = line.split()[:2]
            values[name] = int(kb) * 1024
    if b"Rss:" not in values:
        return None
    return values[b"Rss:"], values.get(b"Pss:", values[b"Rss:"])


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_jobs(jobs: Sequence[Job], *, parallel: int = 1, timeout: float = 1800.0) -> Measure:
    """Run ``jobs``, at most ``parallel`` at once; wall time ends when the last job exits.

    Orphans they leave behind are waited for (bounded) so their CPU time is counted."""
    poller = _Poller()
    cpu0 = _children_cpu()
    t0 = time.perf_counter()
    poller.start()
    queue = list(jobs)
    running: list[tuple[subprocess.Popen[bytes], BinaryIO]] = []
    codes: list[int] = []
    deadline = time.monotonic() + timeout
    try:
        while queue or running:
            while queue and len(running) < parallel:
                job = queue.pop(0)
                out: BinaryIO = job.log.open("ab")
                proc = subprocess.Popen(
                    list(job.argv), env=dict(job.env), stdout=out, stderr=subprocess.STDOUT
                )
                running.append((proc, out))
            for proc, out in list(running):
                if proc.poll() is not None:
                    codes.append(proc.returncode)
                    out.close()
                    running.remove((proc, out))
            if time.monotonic() > deadline:
                raise TimeoutError(f"jobs still running after {timeout:.0f} s")
            if running:
                time.sleep(0.02)
        wall = time.perf_counter() - t0
    finally:
        for proc, out in running:
            proc.kill()
            proc.wait()
            out.close()
        _reap_orphans()
        poller.stop.set()
        poller.join()
    return Measure(
        wall, _children_cpu() - cpu0, poller.peak_rss, poller.peak_pss, codes, poller.cpu
    )


def _reap_orphans() -> None:
    """Wait for adopted descendants (e.g. a fork server) to exit, then collect them."""
    end = time.monotonic() + _REAP_SECONDS
    while time.monotonic() < end:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return  # no children left
        if pid == 0:
            time.sleep(0.01)
    for p in psutil.Process().children():
        p.kill()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
