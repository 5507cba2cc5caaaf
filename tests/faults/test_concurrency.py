"""Two runs at once (two triggers, a manual run during a scheduled one) never both upload: the
second exits 4 with a clear message, or waits with --wait-lock (issue 4: concurrency)."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from support.invariants import check_invariants, submissions_count
from support.rig import Rig


def _wait_until_running(rig: Rig, timeout: float = 60) -> None:
    """Until the first run holds the lock (it records its start under the lock)."""
    ledger = rig.data_dir / "ledger.sqlite"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ledger.exists():
            with sqlite3.connect(ledger) as db:
                try:
                    if db.execute("SELECT count(*) FROM runs").fetchone()[0]:
                        return
                except sqlite3.OperationalError:
                    pass  # the schema is being created
        time.sleep(0.1)
    raise AssertionError("the first run never started")


def test_second_run_exits_4_while_the_first_submits(rig: Rig, capfd: Any) -> None:
    gate = rig.base / "gate"
    rig.knobs(gate={"corvus_corone": str(gate)})
    first = rig.spawn()
    _wait_until_running(rig)
    second = rig.cli(capfd=capfd)
    assert submissions_count(rig).get("corvus_corone", 0) == 0  # the first held at the gate
    check_invariants(rig, second, exit_code=4, crashed="another run holds", notified=False)
    assert second.notifications() == []  # the run holding the lock reports, not this one
    gate.touch()
    done = rig.finish(first)
    check_invariants(rig, done, exit_code=0, outputs=[second.out])


def test_second_run_with_wait_lock_waits_then_finds_everything_submitted(
    rig: Rig, capfd: Any
) -> None:
    rig.knobs(sleep={"corvus_corone": 2})
    first = rig.spawn()
    _wait_until_running(rig)
    second = rig.cli("--wait-lock", "60", capfd=capfd)
    done = rig.finish(first)
    check_invariants(rig, done, exit_code=0)
    check_invariants(rig, second, exit_code=0, outputs=[done.out])
    assert {o["status"] for o in second.outcomes().values()} == {"already"}


def test_two_triggers_at_the_same_instant_upload_each_model_once(rig: Rig) -> None:
    a = rig.spawn("--wait-lock", "60")
    b = rig.spawn("--wait-lock", "60")
    ra, rb = rig.finish(a), rig.finish(b)
    for res in (ra, rb):
        check_invariants(rig, res, exit_code=0, notified=False, outputs=[ra.out, rb.out])
    statuses = sorted(o["status"] for r in (ra, rb) for o in r.outcomes().values())
    assert statuses == ["already"] * 3 + ["submitted"] * 3
