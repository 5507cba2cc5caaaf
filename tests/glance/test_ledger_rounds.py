"""The ledger queries the grid and `history` read: a round's rows across runs, without idle
runs' "skipped" rows and without `models check` (which never submits)."""

from __future__ import annotations

from pathlib import Path

from numerai_autopilot.glance import round_history
from numerai_autopilot.run.ledger import Ledger


def _run(ledger: Ledger, command: str, model: str, number: int, status: str) -> str:
    run_id = ledger.start_run(command)
    ledger.record(run_id, model, tournament=8, round_number=number, stage="predict", status=status)
    ledger.finish_run(run_id, 0, {status: 1}, {})
    return run_id


def test_round_outcomes_leave_out_idle_rows_and_model_checks(tmp_path: Path) -> None:
    with Ledger(tmp_path) as ledger:
        failed = _run(ledger, "run", "a", 7, "failed")
        _run(ledger, "check", "a", 7, "failed")  # a check's failure is no submission attempt
        done = _run(ledger, "run", "a", 7, "submitted")
        _run(ledger, "run", "a", 7, "skipped")
        _run(ledger, "run", "a", 8, "skipped")  # only idle rows: the round is not "known"
        _run(ledger, "schedule", "b", 5, "failed")
        rows = ledger.round_outcomes(8, 1, 100)
        assert [(r.run_id, r.status) for r in rows if r.model == "a"] == [
            (failed, "failed"),
            (done, "submitted"),
        ]
        assert ledger.newest_rounds() == {8: 7}
        assert ledger.round_outcomes(11, 1, 100) == []
        (a, b) = round_history(ledger, 10)
        assert (a.model, a.round, a.status, a.attempts, a.failures) == ("a", 7, "submitted", 2, 1)
        assert (b.model, b.round, b.status) == ("b", 5, "failed")
        assert [r.model for r in round_history(ledger, 10, model="B")] == ["b"]
