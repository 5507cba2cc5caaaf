"""A run killed (SIGKILL, its workers too) at any stage, then run again, converges: every model
submitted once, no partial file used, the ledger agreeing with the API (issue 4: crash
consistency). Kill points are exact: faults_driver.py kills from inside the step."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from support.invariants import check_invariants, submissions_count
from support.rig import Rig


def _killed(rig: Rig, kill_at: str, nth: int = 1) -> str:
    proc = rig.spawn(kill_at=kill_at, FAULTS_KILL_NTH=str(nth))
    res = rig.finish(proc)
    assert res.code == -9, (res.code, res.out[-2000:])  # it died where it was told to
    return res.out


def test_kill_mid_download_then_rerun_resumes_and_uses_no_partial_file(
    rig: Rig, capfd: Any
) -> None:
    rig.sb.bandwidth = 400_000  # small chunks: the kill lands inside the body
    out = _killed(rig, "download")
    assert list((rig.data_dir / "cache").rglob("*.part")), "the kill left no partial file"
    assert rig.sb.submissions() == []
    rig.sb.bandwidth = None
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0, outputs=[out])
    assert not list((rig.data_dir / "cache").rglob("*.part"))


def test_kill_after_the_put_before_the_create_then_rerun_submits_once(rig: Rig, capfd: Any) -> None:
    out = _killed(rig, "after-put")
    assert rig.sb.submissions() == []
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0, outputs=[out])


@pytest.mark.parametrize("nth", [1, 2])
def test_kill_after_the_create_before_the_ledger_then_rerun_finds_it_already(
    rig: Rig, capfd: Any, nth: int
) -> None:
    out = _killed(rig, "after-create", nth)
    assert sum(submissions_count(rig).values()) == nth
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0, outputs=[out])
    statuses = [o["status"] for o in res.outcomes().values()]
    assert statuses.count("already") == nth


def test_kill_inside_the_ledger_transaction_leaves_a_readable_consistent_ledger(
    rig: Rig, capfd: Any
) -> None:
    out = _killed(rig, "mid-ledger")
    with sqlite3.connect(rig.data_dir / "ledger.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # The uncommitted 'submitted' row never became visible.
        assert (
            db.execute("SELECT count(*) FROM outcomes WHERE status = 'submitted'").fetchone()[0]
            == 0
        )
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0, outputs=[out])


def test_kill_between_models_then_rerun_submits_only_the_rest(rig: Rig, capfd: Any) -> None:
    out = _killed(rig, "after-submit")
    assert sum(submissions_count(rig).values()) == 1
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0, outputs=[out])
    assert sorted(o["status"] for o in res.outcomes().values()) == [
        "already",
        "submitted",
        "submitted",
    ]
