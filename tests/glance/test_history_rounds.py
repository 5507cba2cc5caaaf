"""`history`: each model's outcome per round from every run, not only the newest run's."""

from __future__ import annotations

from typing import Any

from support.glance import cli
from support.invariants import iter_lines
from support.rig import Rig
from support.sandbox import round_number

ANAS, NETTA = "anas_platyrhynchos", "netta_rufina"


def _rounds(out: str) -> dict[tuple[str, int], dict[str, Any]]:
    return {(d["model"], d["round"]): d for d in iter_lines(out) if d.get("event") == "round"}


def test_history_shows_each_rounds_outcome_through_failures_retries_and_idle_runs(
    rig: Rig, capfd: Any
) -> None:
    rig.write_models([ANAS, NETTA])
    sb = rig.sb
    a = round_number(sb)
    assert cli(rig, capfd, "run")[0] == 0
    sb.close_round()
    assert cli(rig, capfd, "run")[0] == 3
    sb.open_round()
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    assert cli(rig, capfd, "run")[0] == 1
    sb.close_round()
    assert cli(rig, capfd, "run")[0] == 3  # the newest run is idle: it did nothing

    code, out, err = cli(rig, capfd, "history", "--rounds", "2")
    assert code == 0, err
    runs = [d for d in iter_lines(out) if d.get("event") == "run"]
    assert [r["result"] for r in runs] == ["idle", "failed", "failed", "idle", "ok"]
    rounds = _rounds(out)
    assert set(rounds) == {(ANAS, a), (NETTA, a), (ANAS, a + 1), (NETTA, a + 1)}
    assert rounds[ANAS, a]["status"] == "submitted" and rounds[ANAS, a]["submission_id"]
    assert rounds[ANAS, a + 1]["status"] == "submitted"
    assert rounds[ANAS, a + 1]["attempts"] == 2  # submitted, then "already"
    failed = rounds[NETTA, a + 1]
    assert (failed["status"], failed["stage"], failed["failures"]) == ("failed", "predict", 2)
    assert "exploded on purpose" in failed["error"]
    assert failed["run_id"] == runs[1]["id"]  # the newest failure

    # --rounds 1: the newest round only; --model: one model's.
    out = cli(rig, capfd, "history", "--rounds", "1", "--model", NETTA)[1]
    assert set(_rounds(out)) == {(NETTA, a + 1)}


def test_history_table_fits_80_columns(rig: Rig, capfd: Any) -> None:
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    code, out, err = cli(rig, capfd, "history", NUMERAI_LOG_FORMAT="rich", COLUMNS="80")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert any(line.startswith(str(round_number(rig.sb))) and NETTA in line for line in lines)
    assert "at predict:" in out
