"""The memory poller's logic: when a budgeted snapshot is taken, what a snapshot sums (PSS
counts a forked child's shared pages once), and how the memory target reads the memory
rounds. No timing assertions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from typing import Any

from benchmarks import memory
from benchmarks.poller import MARGIN, PSS_AFTER, PSS_BUDGET, Poller, command, tree, wants_snapshot

MB = 1e6


def _wants(rss: int, prev: int, last: int, spent: float = 0.0, cost: float = 0.001) -> bool:
    return wants_snapshot(rss, prev, last, spent=spent, cost=cost, elapsed=10.0)


def test_a_snapshot_waits_for_a_new_high_that_has_levelled_off() -> None:
    assert _wants(700, 690, 400)  # new high, levelled, within budget
    assert not _wants(700, 400, 0)  # still rising fast: the peak would overtake it
    assert not _wants(int(400 * (1 + MARGIN / 2)), 400, 400)  # not past the last by the margin
    assert _wants(int(400 * (1 + 2 * MARGIN)), int(400 * (1 + 2 * MARGIN)), 400)


def test_a_snapshot_is_skipped_when_it_would_break_the_budget() -> None:
    budget = PSS_BUDGET * 10.0
    assert _wants(700, 700, 0, spent=0.0, cost=budget * 0.9)
    assert not _wants(700, 700, 0, spent=budget * 0.5, cost=budget * 0.6)
    assert not wants_snapshot(700, 700, 0, spent=0.0, cost=0.0, elapsed=0.0)
    # The first seconds are left alone, whatever the budget: the peak comes later.
    assert not wants_snapshot(700, 700, 0, spent=0.0, cost=0.0, elapsed=PSS_AFTER / 2)


# Touches 80 MB of private memory, then forks a child that shares it (copy on write) without
# writing to it; both wait for stdin to close.
FORKER = textwrap.dedent(
    """
    import os, sys
    buf = bytearray(80 * 1024 * 1024)
    buf[::4096] = b"x" * len(buf[::4096])
    if os.fork() == 0:
        sys.stdin.read()
        os._exit(0)
    print("ready", flush=True)
    sys.stdin.read()
    os.wait()
    """
)


def test_a_snapshot_counts_pages_a_fork_shares_once_and_names_the_roles() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        poller = Poller(root=proc.pid)
        assert set(tree(proc.pid).values()) == {1}  # the forked child, one level down
        snap = poller.take(poller._pids())
        # Both hold 80 MB resident, but the pages are the same: PSS counts them once.
        assert snap.rss >= 160 * MB
        assert 80 * MB <= snap.pss < 120 * MB
        assert snap.pss == poller.peak_pss and poller.pss_samples == 1
        assert set(snap.roles) == {
            "python -c, depth 0, already running",
            "python -c, depth 1, already running",
        }
        assert sum(c[0] for c in snap.roles.values()) == 2
        assert sum(c[2] for c in snap.roles.values()) == snap.pss
        assert command(proc.pid) == "python -c"
    finally:
        proc.communicate("", timeout=30)


def test_the_dense_poller_snapshots_every_poll_and_keeps_the_peaks_breakdown() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        poller = Poller(root=proc.pid, every=0.01)
        poller.start()
        deadline = time.monotonic() + 30
        while poller.pss_samples < 3 and time.monotonic() < deadline:
            poller.stop.wait(0.01)
        poller.stop.set()
        poller.join(30)
        assert poller.pss_samples >= 3  # no budget: a snapshot at every poll
        assert poller.peak_rss >= 160 * MB and 80 * MB <= poller.peak_pss < 120 * MB
        assert sum(c[0] for c in poller.peak.roles.values()) == 2
        assert poller.cpu > 0
    finally:
        proc.communicate("", timeout=30)


def _mem(approach: str, n: int, pss: float, roles: dict[str, list[int]]) -> dict[str, Any]:
    return {
        "set": "lgbm",
        "approach": approach,
        "n": n,
        "peak_pss": int(pss * MB),
        "peak_rss": int(2 * pss * MB),
        "models_bytes": int(5.8 * MB * n),
        "at_peak": roles,
    }


def _roles(mb: dict[str, list[int]]) -> dict[str, list[int]]:
    """[count, RSS MB, PSS MB] -> [count, RSS bytes, PSS bytes]."""
    return {k: [c, int(r * MB), int(p * MB)] for k, (c, r, p) in mb.items()}


def test_the_memory_target_reads_the_memory_rounds_and_names_what_grew() -> None:
    small = {"resident_serve.py, depth 0": [1, 300, 240], "python -c, depth 3": [2, 400, 160]}
    large = {"resident_serve.py, depth 0": [1, 310, 250], "python -c, depth 3": [2, 600, 280]}
    meta = {
        "memory": [
            _mem("resident", 5, 540, _roles(small)),
            _mem("resident", 5, 520, {}),  # a second round, lower: the highest one counts
            _mem("resident", 20, 670, _roles(large)),
            _mem("cron", 5, 386, {}),
            _mem("cron", 20, 400, {}),
        ]
    }
    timed = ({"peak_pss": 0, "models_bytes": 0}, {"peak_pss": 0, "models_bytes": 0})
    label, text, met = memory.target("cron", meta, timed, 5, 20)
    assert met is True and "+14 MB PSS (386 -> 400 MB" in text and "15 added models" in text
    assert "96 MB allowed" in text  # 1.1 x 15 x 5.8 MB
    label, text, met = memory.target("resident", meta, timed, 5, 20)
    assert met is False and "(540 -> 670 MB" in text
    assert text.index("workers (2 -> 2) +120 MB PSS (+200 MB RSS)") < text.index("serve (1 -> 1)")
    # No memory rounds (an old records file): the timed cases' peaks, or "not measured".
    label, text, met = memory.target("cron", {}, timed, 5, 20)
    assert met is None and "not measured" in text
    label, text, met = memory.target("cron", {"memory": []}, (None, None), None, 20)
    assert met is None and "N = ? to 20" in label


def test_the_memory_section_lists_each_round_with_its_breakdown() -> None:
    roles = _roles({"numerai-autopilot run, depth 1": [1, 300, 219], "sh, depth 2": [1, 2, 1]})
    meta = {"memory": [_mem("cron", 5, 386, roles)]}
    lines = memory.section(meta)
    row = next(line for line in lines if line.startswith("| lgbm | 5 | cron"))
    assert "| 386 | 772 | 29.0 |" in row
    assert "the run (CLI): 1, 219 (300); sh, depth 2: 1, 1 (2)" in row  # unknown: raw name
    assert memory.section({}) == []
