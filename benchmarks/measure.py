"""Measuring a group of processes: wall time, CPU time of the whole tree, peak memory.

CPU time comes from ``getrusage(RUSAGE_CHILDREN)``, which counts every descendant that was
waited for. The autopilot's prediction workers are children of a fork server that outlives the
CLI by a moment and would be re-parented to init, taking its CPU time with it; so this process
makes itself a *child subreaper* (Linux prctl), adopts such orphans and reaps them: nothing is
lost. A long-lived process (the resident mode's ``serve``) is never waited for: its tree's CPU
over a window is read from ``/proc/<pid>/stat`` (:func:`tree_cpu`), and it is kept out of the
other cases' measures (``keep``). Peak memory (summed RSS and PSS of the descendants) is
polled by poller.py's :class:`Poller`, budgeted in timed cases, dense in the memory round.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import subprocess
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import psutil  # type: ignore[import-untyped]

from .poller import Poller, descendants

_PR_SET_CHILD_SUBREAPER = 36
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
    """CPU seconds the memory poller itself used (its thread's time)."""
    pss_samples: int = 0
    """How many PSS snapshots the peak comes from (0: none fitted the budget; see Poller)."""
    pss_rss: int = 0
    """The RSS sum at the peak PSS snapshot (against peak_rss: how near the peak it was)."""
    at_peak: dict[str, list[int]] = field(default_factory=dict)
    """Role -> [processes, RSS, PSS] at the peak PSS snapshot."""


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


def measured(poller: Poller, wall: float, cpu: float, codes: list[int]) -> Measure:
    """A Measure of a window, its memory from the (stopped) ``poller``."""
    return Measure(
        wall,
        cpu,
        poller.peak_rss,
        poller.peak_pss,
        codes,
        poller.cpu,
        poller.pss_samples,
        poller.peak.rss,
        poller.peak.roles,
    )


def run_jobs(
    jobs: Sequence[Job],
    *,
    parallel: int = 1,
    timeout: float = 1800.0,
    keep: Collection[int] = (),
    every: float | None = None,
) -> Measure:
    """Run ``jobs``, at most ``parallel`` at once; wall time ends when the last job exits.

    Orphans they leave behind are waited for (bounded) so their CPU time is counted; the
    processes in ``keep`` (a resident server) are neither measured, waited for nor killed.
    ``every``: a dense memory poller (a full PSS snapshot every ``every`` s, no budget)."""
    poller = Poller(keep=keep, every=every)
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
    return measured(poller, wall, children_cpu() - cpu0, codes)


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
