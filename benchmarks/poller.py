"""The memory poller: the peak RSS and PSS of a process tree, for a bounded cost.

RSS comes from ``/proc/<pid>/statm`` (constant cost per process). PSS (a page shared by k
processes counts 1/k in each: the honest total when a fork server's workers share its pages)
needs ``/proc/<pid>/smaps_rollup``, which walks the process's pages: measured here at 0.025-0.05
ms per MB of RSS, i.e. 17-20 ms for the cron run's tree at its peak (the run 300 MB, its fork
server 167 MB, two workers 109 MB each) and 31-45 ms for the resident server's tree (1.1-1.4
GB). A snapshot reads every process of the tree in one pass: PSS moves between a fork server
and its workers as they fork and exit (a template holding the models counts 276 MB alone, 108
MB while two workers share its pages), so reads made at different moments cannot be summed.

Two modes:

- **budgeted** (the timed cases): a snapshot when the RSS sum is a new high by ``MARGIN`` over
  the last snapshot's *and* has stopped rising (two polls within ``MARGIN``), and only while
  the poller's own CPU, the snapshot's expected cost included, stays within ``PSS_BUDGET`` of
  the time elapsed. A short case with a large tree (the resident round at N <= 5: 2-3 s, a
  30-40 ms snapshot) cannot afford one.
- **dense** (``every``: the untimed memory round): a snapshot at every poll, no budget, and
  the peak snapshot's breakdown by process (``at_peak``), so the growth can be explained.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import psutil  # type: ignore[import-untyped]

POLL = 0.5
PSS_BUDGET = 0.006  # of a core, for snapshots (statm polling takes another 0.1-0.4%)
MARGIN = 0.03  # a new RSS high must pass the last snapshot's by 3%, and level off
PSS_AFTER = 2.0  # s: no budgeted snapshot before (a cheap early one starves the peak's)
PSS_COST_PER_BYTE = 4e-11  # 0.04 ms per MB (0.025-0.05 seen): the first snapshot's guess
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def wants_snapshot(
    rss: int, prev: int, last: int, *, spent: float, cost: float, elapsed: float
) -> bool:
    """Whether the budgeted poller reads PSS now: the RSS sum ``rss`` is over the last
    snapshot's RSS ``last`` by the margin, has levelled off since the previous poll's ``prev``
    (a snapshot in the middle of a rise is spent on a figure the peak overtakes), the case is
    past its first seconds (the run's start is small and cheap to read, and the budget it
    spends would be missing at the peak), and the poller's CPU ``spent`` plus the snapshot's
    expected ``cost`` fits the budget of ``elapsed`` seconds."""
    new_high = rss > last * (1 + MARGIN)
    levelled = rss <= prev * (1 + MARGIN)
    early = elapsed < PSS_AFTER
    return new_high and levelled and not early and spent + cost <= PSS_BUDGET * elapsed


@dataclass
class Snapshot:
    """One PSS reading of the whole tree: sums, and per role (count, RSS, PSS)."""

    rss: int = 0
    pss: int = 0
    roles: dict[str, list[int]] = field(default_factory=dict)


class Poller(threading.Thread):
    """Tracks the peak memory of ``root``'s descendants (``root`` too unless it is this
    process), skipping the subtrees of ``keep``: budgeted, or dense with ``every`` seconds."""

    def __init__(
        self, root: int | None = None, keep: Collection[int] = (), every: float | None = None
    ) -> None:
        super().__init__(daemon=True, name="bench-poller")
        self.stop = threading.Event()
        self.peak_rss = 0
        self.peak = Snapshot()
        self.pss_samples = 0
        self.cpu = 0.0
        self.root = os.getpid() if root is None else root
        self.keep = set(keep)
        self.every = every
        self.before = set(self._pids())  # running before the measure: "already running"

    @property
    def peak_pss(self) -> int:
        return self.peak.pss

    def run(self) -> None:
        t0, w0 = time.thread_time(), time.perf_counter()
        prev = last = 0
        per_byte = PSS_COST_PER_BYTE  # a snapshot's cost, from the last one's
        while not self.stop.is_set():
            pids = self._pids()
            rss = sum(statm_rss(pid) for pid in pids)
            self.peak_rss = max(self.peak_rss, rss)
            spent, elapsed = time.thread_time() - t0, time.perf_counter() - w0
            guess = rss * per_byte
            if self.every is not None or wants_snapshot(
                rss, prev, last, spent=spent, cost=guess, elapsed=elapsed
            ):
                c0 = time.thread_time()
                snap = self.take(pids)
                if snap.rss:
                    per_byte = (time.thread_time() - c0) / snap.rss
                last = rss
            prev = rss
            self.stop.wait(POLL if self.every is None else self.every)
        self.cpu = time.thread_time() - t0

    def _pids(self) -> dict[int, int]:
        pids = tree(self.root, self.keep)
        if self.root != os.getpid():
            pids[self.root] = 0
        return pids

    def take(self, pids: Mapping[int, int]) -> Snapshot:
        """Read the PSS of every process of ``pids`` (pid -> depth) now; keep the peak."""
        snap = Snapshot()
        for pid, depth in pids.items():
            name = command(pid)
            got = rollup(pid)
            rss, pss = got if got is not None else (statm_rss(pid), statm_rss(pid))
            if not rss or name is None:
                continue  # gone meanwhile
            role = f"{name}, depth {depth}"
            if pid in self.before:
                role += ", already running"
            counts = snap.roles.setdefault(role, [0, 0, 0])
            counts[0] += 1
            counts[1] += rss
            counts[2] += pss
            snap.rss += rss
            snap.pss += pss
        self.pss_samples += 1
        if snap.pss > self.peak.pss:
            self.peak = snap
        return snap

    def sample(self) -> None:
        """One full sample now (RSS and PSS), whatever it costs (tests, one-off readings)."""
        pids = self._pids()
        self.peak_rss = max(self.peak_rss, sum(statm_rss(p) for p in pids))
        self.take(pids)


def statm_rss(pid: int) -> int:
    """Resident bytes of ``pid`` from /proc/<pid>/statm (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        try:
            return int(psutil.Process(pid).memory_info().rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            return 0


def tree(root: int, keep: Collection[int] = ()) -> dict[int, int]:
    """Every descendant of ``root`` (pid -> depth, 1 for a child) but the subtrees of ``keep``,
    from /proc/<pid>/task/<tid>/children (no scan of all of /proc, which psutil's children()
    makes: most of a poller's cost)."""
    out: dict[int, int] = {}
    todo = [(root, 0)]
    while todo and len(out) < 10_000:
        pid, depth = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    kids = [k for k in (int(x) for x in f.read().split()) if k not in keep]
            except (OSError, ValueError):
                if pid == root:  # no /proc children files: psutil's way (depth unknown: 1)
                    found = psutil.Process(root).children(recursive=True)
                    return {c.pid: 1 for c in found if c.pid not in keep}
                continue
            for kid in kids:
                out[kid] = depth + 1
                todo.append((kid, depth + 1))
    return out


def descendants(root: int, keep: Collection[int] = ()) -> list[int]:
    """Every descendant's pid but the subtrees of ``keep``."""
    return list(tree(root, keep))


def command(pid: int) -> str | None:
    """A short name for the process: ``numerai-autopilot run``, ``resident_serve.py``,
    ``python -c`` (a fork server and its workers), else the program's name; None if gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return None
    if "-c" in argv:
        return "python -c"
    for i, arg in enumerate(argv):
        if arg.endswith("numerai-autopilot"):
            return " ".join(["numerai-autopilot", *argv[i + 1 : i + 2]])
    for arg in argv[1:]:
        if arg.endswith(".py"):
            return os.path.basename(arg)
    return os.path.basename(argv[0]) if argv else None  # a zombie's cmdline is empty


def rollup(pid: int) -> tuple[int, int] | None:
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
