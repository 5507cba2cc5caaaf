"""Measuring a group of processes: wall time, CPU time of the whole tree, peak memory.

CPU time comes from ``getrusage(RUSAGE_CHILDREN)``, which counts every descendant that was
waited for. The autopilot's prediction workers are children of a fork server that outlives the
CLI by a moment and would be re-parented to init, taking its CPU time with it; so this process
makes itself a *child subreaper* (Linux prctl), adopts such orphans and reaps them: nothing is
lost. A long-lived process (the resident mode's ``serve``) is never waited for: its tree's CPU
over a window is read from ``/proc/<pid>/stat`` (:func:`tree_cpu`), and it is kept out of the
other cases' measures (``keep``). Peak memory is polled every 0.5 s over the descendants: the
sum of RSS, and the sum of PSS (proportional set size: a page shared by k processes counts 1/k
in each), which is the honest total when workers map the same live frame.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import subprocess
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import psutil  # type: ignore[import-untyped]

_PR_SET_CHILD_SUBREAPER = 36
# 0.5 s, statm and /proc children files (not psutil), PSS within a budget: the old 20 ms
# poller used 2.5-6 s of CPU per case on the same 2 cores it measured. Its own CPU is measured
# (poller_cpu) and reported.
_POLL = 0.5
PSS_BUDGET = 0.005  # at most 0.5% of a core for PSS samples (see Poller)
_PSS_COST_PER_BYTE = 5e-11
_PSS_AFTER = 2.0  # no PSS sample in a case's first seconds: one alone could break the budget
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_REAP_SECONDS = 15.0
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


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
    pss_samples: int = 0
    """How many PSS samples the peak comes from (0: none fitted the budget; see Poller)."""
    """CPU seconds the memory poller itself used (its thread's time)."""


class Poller(threading.Thread):
    """Tracks the peak memory of ``root``'s descendants (``root`` too unless it is this
    process), skipping the subtrees of ``keep``, for under 1% of a core.

    Every 0.5 s it sums their RSS from ``/proc/<pid>/statm`` (constant cost per process). PSS
    needs ``smaps_rollup``, which walks every page (5-20 ms per 300 MB process on a busy
    machine: at 2 Hz that alone was 2-7% of a core), so a PSS sample is taken only when the
    RSS sum reaches a new high and only while the poller's own CPU, the sample's included,
    stays within ``PSS_BUDGET`` of the time elapsed: peaks are caught, the cost is bounded.
    A case shorter than a few seconds gets no PSS sample (its RSS peak is still there)."""

    def __init__(self, root: int | None = None, keep: Collection[int] = ()) -> None:
        super().__init__(daemon=True, name="bench-poller")
        self.stop = threading.Event()
        self.peak_rss = 0
        self.peak_pss = 0
        self.pss_samples = 0
        self.cpu = 0.0
        self.root = os.getpid() if root is None else root
        self.keep = set(keep)

    def run(self) -> None:
        t0, w0 = time.thread_time(), time.perf_counter()
        high, cost = 0, 0.0
        while not self.stop.is_set():
            pids = self._pids()
            rss = sum(_statm_rss(pid) for pid in pids)
            self.peak_rss = max(self.peak_rss, rss)
            spent, elapsed = time.thread_time() - t0, time.perf_counter() - w0
            # The next PSS sample must fit the budget too, at the last one's cost (before the
            # first, a guess from the RSS: smaps_rollup costs about 0.05 ms per MB mapped).
            guess = cost if cost else rss * _PSS_COST_PER_BYTE
            if rss > high and elapsed >= _PSS_AFTER and spent + guess < PSS_BUDGET * elapsed:
                high = rss
                c0 = time.thread_time()
                self.peak_pss = max(self.peak_pss, self.pss(pids))
                cost = time.thread_time() - c0
                self.pss_samples += 1
            self.stop.wait(_POLL)
        self.cpu = time.thread_time() - t0

    def _pids(self) -> list[int]:
        pids = descendants(self.root, self.keep)
        if self.root != os.getpid():
            pids.append(self.root)
        return pids

    def pss(self, pids: Sequence[int]) -> int:
        """The summed PSS of ``pids`` (RSS where smaps_rollup is missing)."""
        total = 0
        for pid in pids:
            got = _rollup(pid)
            total += got[1] if got is not None else _statm_rss(pid)
        return total

    def sample(self) -> None:
        """One full sample now (RSS and PSS), whatever it costs (tests, one-off readings)."""
        pids = self._pids()
        self.peak_rss = max(self.peak_rss, sum(_statm_rss(p) for p in pids))
        self.peak_pss = max(self.peak_pss, self.pss(pids))


def _statm_rss(pid: int) -> int:
    """Resident bytes of ``pid`` from /proc/<pid>/statm (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        try:
            return int(psutil.Process(pid).memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return 0


def descendants(root: int, keep: Collection[int] = ()) -> list[int]:
    """Every descendant's pid but the subtrees of ``keep``, from /proc/<pid>/task/<tid>/children
    (no scan of all of /proc, which psutil's children() makes: most of a poller's cost)."""
    out: list[int] = []
    todo = [root]
    while todo and len(out) < 10_000:
        pid = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [k for k in (int(x) for x in f.read().split()) if k not in keep]
            except (OSError, ValueError):
                if pid == root:  # no /proc children files: psutil's way
                    found = psutil.Process(root).children(recursive=True)
                    return [c.pid for c in found if c.pid not in keep]
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


def tree_cpu(root: int) -> float:
    """CPU seconds ``root`` and its descendants have used, their waited-for children included
    (utime + stime + cutime + cstime of each, from /proc/<pid>/stat).

    The difference of two readings is the tree's CPU between them: a process that ended in
    between has been added to its reaper's cutime (and was counted at the first reading)."""
    total = 0
    for pid in [root, *descendants(root)]:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces): utime is the 14th field.
        fields = stat[stat.rindex(b")") + 2 :].split()
        total += sum(int(x) for x in fields[11:15])
    return total / _TICKS


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_jobs(
    jobs: Sequence[Job], *, parallel: int = 1, timeout: float = 1800.0, keep: Collection[int] = ()
) -> Measure:
    """Run ``jobs``, at most ``parallel`` at once; wall time ends when the last job exits.

    Orphans they leave behind are waited for (bounded) so their CPU time is counted; the
    processes in ``keep`` (a resident server) are neither measured, waited for nor killed."""
    poller = Poller(keep=keep)
    cpu0 = children_cpu()
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
        reap_orphans(keep)
        poller.stop.set()
        poller.join()
    return Measure(
        wall,
        children_cpu() - cpu0,
        poller.peak_rss,
        poller.peak_pss,
        codes,
        poller.cpu,
        poller.pss_samples,
    )


def reap_orphans(keep: Collection[int] = ()) -> None:
    """Wait (bounded) for adopted descendants (e.g. a fork server) to exit, collect them, then
    kill what is left; the processes in ``keep`` are left alone."""
    end = time.monotonic() + _REAP_SECONDS
    while time.monotonic() < end:
        others = [p for p in psutil.Process().children() if p.pid not in keep]
        if not others:
            return
        for p in others:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(p.pid, os.WNOHANG)
        time.sleep(0.01)
    for p in psutil.Process().children():
        if p.pid not in keep:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(p.pid, 0)
