"""`status --rounds N` against the sandbox: a model x round grid from one API request merged
with the ledger, never hidden by idle runs, readable at 80 columns."""

from __future__ import annotations

import json
from typing import Any

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.client._snapshot import snapshot_query
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support import real_schema
from support.glance import cell, cli, doc, marks
from support.rig import Rig
from support.sandbox import round_number

ANAS, NETTA, CORVUS = "anas_platyrhynchos", "netta_rufina", "corvus_corone"


def _graphql_posts(sb: Sandbox) -> int:
    return int(sb.counters()["http"].get("POST /", 0))


def _three_rounds(rig: Rig, capfd: Any) -> list[int]:
    """Round A: all on time. Round B: netta fails at predict, idle runs after each close.
    Round C: open, nothing run yet. Returns [A, B, C]."""
    sb = rig.sb
    a = round_number(sb)
    assert cli(rig, capfd, "run")[0] == 0
    sb.close_round()
    assert cli(rig, capfd, "run")[0] == 3  # idle: leaves "skipped" rows for round A
    sb.open_round()
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    sb.close_round()
    assert cli(rig, capfd, "run")[0] == 3
    sb.open_round()
    rig.knobs()
    return [a, a + 1, a + 2]


def test_grid_merges_the_apis_submissions_with_the_ledgers_failures_in_one_request(
    rig: Rig, capfd: Any
) -> None:
    rig.write_models([ANAS, NETTA])  # corvus_corone stays in the account only
    a, b, c = _three_rounds(rig, capfd)
    before = _graphql_posts(rig.sb)
    code, out, err = cli(rig, capfd, "status", "--rounds", "4")
    assert code == 0, err
    assert _graphql_posts(rig.sb) - before == 1  # one request for every model and round
    status = doc(out, "status")
    assert status["api_requests"] == 1
    classic = next(s for s in status["sections"] if s["tournament"] == "classic")
    assert classic["rounds"] == [a - 1, a, b, c]
    assert classic["current"]["number"] == c
    # The round before the first run had no submission and no run: missing.
    assert marks(status, ANAS) == {a - 1: "missing", a: "on-time", b: "on-time", c: "due"}
    assert marks(status, NETTA) == {a - 1: "missing", a: "on-time", b: "failed", c: "due"}
    failed = cell(status, NETTA, b)
    assert failed["stage"] == "predict" and "exploded on purpose" in failed["reason"]
    assert failed["attempts"] == 1 and failed["run_id"]
    ok = cell(status, ANAS, a)
    assert ok["submission_id"] == rig.sb.submissions(ANAS)[0]["id"]
    assert ok["timestamp"].endswith("Z")
    # An account model the models file does not list: its rounds are "not configured".
    assert set(marks(status, CORVUS).values()) == {"not-configured"}
    corvus = next(r for r in classic["rows"] if r["model"] == CORVUS)
    assert (corvus["configured"], corvus["in_account"]) == (False, True)
    assert corvus["note"] == "not in the models file"
    # The rows status always had: this round's state, per configured model.
    assert {(m["model"], m["api"]) for m in status["models"]} == {
        (ANAS, "pending"),
        (NETTA, "pending"),
    }


def test_an_idle_run_after_the_close_does_not_hide_the_rounds_outcome(rig: Rig, capfd: Any) -> None:
    a = round_number(rig.sb)
    assert cli(rig, capfd, "run")[0] == 0
    rig.sb.close_round()
    for _ in range(2):  # the idle slots of a schedule
        assert cli(rig, capfd, "run")[0] == 3
    status = doc(cli(rig, capfd, "status", "--rounds", "1")[1], "status")
    for m in status["models"]:
        assert (m["round"], m["ledger"]) == (a, "submitted"), m
        assert m["submission"]
    for name in (ANAS, NETTA, CORVUS):
        assert marks(status, name) == {a: "on-time"}


def test_late_and_queued_submissions_show_as_numerai_counts_them(
    rig: Rig, capfd: Any, api: NumeraiClient
) -> None:
    sb = rig.sb
    a = round_number(sb)
    sb.close_round()
    sb.set_late_submissions(True)
    assert cli(rig, capfd, "run", "--late", "submit")[0] == 0  # after the close: late
    # A round announced but not open yet: a submission made now is queued for it.
    sb.open_round(open_in=3600)
    ids = {m["name"]: m["id"] for m in sb.models}
    csv = "id,prediction\n" + "".join(f"{i},0.5{n % 10}\n" for n, i in enumerate(sb.live_ids(8)))
    api.upload_submission(
        model_id=str(ids[ANAS]),
        tournament=Tournament.CLASSIC,
        round_number=a + 1,
        data=csv.encode(),
        filename="queued.csv",
    )
    status = doc(cli(rig, capfd, "status", "--rounds", "2")[1], "status")
    assert marks(status, ANAS) == {a: "late", a + 1: "queued"}
    assert marks(status, NETTA) == {a: "late", a + 1: "due"}


def test_the_terminal_grid_fits_80_columns_with_whole_names_and_a_legend(
    rig: Rig, capfd: Any
) -> None:
    long_name = "a_rather_long_model_name_of_30c"
    rig.sb.add_model(long_name, 8)
    rig.write_models([ANAS, NETTA, long_name])
    rig.knobs(**{"raise": [NETTA]})
    assert cli(rig, capfd, "run")[0] == 1
    code, out, err = cli(
        rig, capfd, "status", "--rounds", "10", NUMERAI_LOG_FORMAT="rich", COLUMNS="80"
    )
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert any(long_name in line for line in lines), out  # whole, not cut with an ellipsis
    assert any(line.startswith(ANAS) for line in lines)
    assert "✓ on time" in out and "F failed" in out and "! missing" in out
    (failure,) = [line for line in lines if line.startswith("failed ")]
    assert f"failed {NETTA} round {round_number(rig.sb)} at predict:" in failure
    # The reason is cut to about two lines; the JSON keeps it whole.
    assert len([line for line in lines if "exploded" in line or "RuntimeError" in line]) <= 2


def test_rounds_out_of_range_is_a_usage_error(rig: Rig, capfd: Any) -> None:
    code, _, err = cli(rig, capfd, "status", "--rounds", "0")
    assert code == 2
    assert "--rounds" in err


@pytest.mark.parametrize("n", [1, 10, 100])
def test_the_grids_document_is_valid_against_numerais_schema(n: int) -> None:
    if real_schema.real_schema() is None:
        pytest.skip(f"Numerai's schema snapshot is not checked out at {real_schema.PATH}")
    text = snapshot_query(sorted(Tournament), n)
    assert f"latestSubmissions(latestNRounds: {n})" in text
    assert real_schema.errors(text) == ()
    assert real_schema.errors(text.replace("latestNRounds", "lastNRounds"))  # the check can fail


def test_status_json_is_one_document(rig: Rig, capfd: Any) -> None:
    code, out, _ = cli(rig, capfd, "status")
    assert code == 0
    (line,) = [ln for ln in out.splitlines() if ln.strip()]
    status = json.loads(line)
    classic = next(s for s in status["sections"] if s["tournament"] == "classic")
    assert len(classic["rounds"]) == 10  # the default


def test_a_misspelt_model_is_a_row_and_a_problem_with_a_suggestion(rig: Rig, capfd: Any) -> None:
    rig.write_models([ANAS, "anas_platyrhynchs"])
    code, out, _ = cli(rig, capfd, "status", "--rounds", "2")
    assert code == 0
    status = doc(out, "status")
    (problem,) = status["problems"]
    assert (
        problem.startswith("anas_platyrhynchs: ") and "did you mean 'anas_platyrhynchos'" in problem
    )
    classic = next(s for s in status["sections"] if s["tournament"] == "classic")
    typo = next(r for r in classic["rows"] if r["model"] == "anas_platyrhynchs")
    assert (typo["configured"], typo["in_account"], typo["note"]) == (
        True,
        False,
        "not in the account",
    )
    text = cli(rig, capfd, "status", NUMERAI_LOG_FORMAT="rich", COLUMNS="80")[1]
    assert "problem anas_platyrhynchs: no model named" in text
