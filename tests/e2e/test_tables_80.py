"""Tables a person reads at 80 columns: names and ids whole, reasons at most three lines,
times marked Z, headers that say what they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from numerai_autopilot.cli import glance_render, render
from numerai_autopilot.glance import round_history
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.run.report import Outcome, RunReport, Status
from numerai_autopilot.tournaments import Tournament

LONG = "model 'x' raised RuntimeError: " + "a long reason that goes on and on " * 12
NAMES = ("anas_platyrhynchos_v2_lgbm", "netta_rufina", "corvus_corone_ensemble_xl")


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _lines(out: str) -> list[str]:
    lines = out.splitlines()
    assert all(len(line) <= 80 for line in lines), "\n".join(lines)
    return lines


def test_run_table_keeps_names_and_ids_whole_and_bounds_reasons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sub_id = "d576d415-5ec1-4dbe-976e-a1b164264cd5"
    outcomes = [
        Outcome(NAMES[0], Tournament.CLASSIC, Status.SUBMITTED, "done", 1411, submission_id=sub_id),
        Outcome(NAMES[1], Tournament.CLASSIC, Status.FAILED, "predict", 1411, error=LONG),
        Outcome(NAMES[2], Tournament.CLASSIC, Status.FAILED, "upload", 1411, error=LONG),
    ]
    for o in outcomes:
        o.timings = {"predict": 12.5}
    r = RunReport(run_id="20261202T142321-125bb6", outcomes=outcomes, rounds={})
    render.report(r, as_json=False)
    out = capsys.readouterr().out
    lines = _lines(out)
    assert "20261202T142321-125bb6" in out
    for name in NAMES:
        assert any(name in line for line in lines), out
    assert sub_id[:20] in out  # its start, on one line (whole in --json and history)
    reason_lines = [line for line in lines if "goes on" in line or "at predict" in line]
    assert 0 < len(reason_lines) <= 2 * 3, out  # two failures, three lines each at most
    assert "…" in out  # cut, and says so
    assert "time" in lines[1] and " s " not in lines[1]


def test_history_shows_whole_run_ids_and_utc_times(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Ledger(tmp_path) as ledger:
        run_id = ledger.start_run("run")
        for name in NAMES:
            ledger.record(
                run_id, name, tournament=8, round_number=1411, stage="predict",
                status="failed", error=LONG,
            )  # fmt: skip
        ledger.finish_run(run_id, 1, {"failed": 3}, {})
        runs, records = ledger.runs(5), round_history(ledger, 10, None)
    glance_render.history(runs, records, as_json=False)
    out = capsys.readouterr().out
    lines = _lines(out)
    assert sum(run_id in line for line in lines) == 1, out  # the runs table: the id whole
    for name in NAMES:
        assert any(name in line for line in lines), out
    assert "Z" in next(line for line in lines if line.startswith(run_id)), out
    assert "exit" in out and "started (UTC)" in out
    assert sum("goes on" in line or "raised" in line for line in lines) <= 3 * len(NAMES)
