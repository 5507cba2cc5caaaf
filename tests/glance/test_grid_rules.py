"""The grid's rules on their own (pure: what the API said, what the ledger recorded, the time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from numerai_autopilot.client import AccountModel, RoundInfo, SubmissionInfo
from numerai_autopilot.config import ModelSpec
from numerai_autopilot.glance import Mark, Section, build_grid, decisive
from numerai_autopilot.run.ledger import OutcomeRow
from numerai_autopilot.tournaments import Tournament

C = Tournament.CLASSIC
NOW = datetime(2026, 7, 21, 12, 30, tzinfo=UTC)
OPEN = RoundInfo(C, 30, NOW - timedelta(minutes=30), NOW + timedelta(minutes=30), None)
CLOSED = RoundInfo(C, 30, NOW - timedelta(hours=2), NOW - timedelta(hours=1), None)


def _spec(name: str, *, enabled: bool = True) -> ModelSpec:
    return ModelSpec(name, C, "lightgbm", Path(f"/m/{name}.txt"), enabled=enabled)


def _sub(model_id: str, number: int, status: str | None, **kw: object) -> SubmissionInfo:
    sid = None if status == "none" else f"s-{model_id}-{number}"
    return SubmissionInfo(sid, model_id, number, None, status, None, **kw)  # type: ignore[arg-type]


def _row(model: str, number: int, status: str, run: str, **kw: object) -> OutcomeRow:
    fields: dict[str, object] = {
        "model_id": None,
        "tournament": 8,
        "stage": "done" if status in ("submitted", "already") else "predict",
        "error": None,
        "submission_id": None,
        "checksum": None,
        "timings": {},
        "late": False,
        **kw,
    }
    return OutcomeRow(run, model, round=number, status=status, updated_at=run, **fields)  # type: ignore[arg-type]


def _grid(
    specs: list[ModelSpec],
    account: list[AccountModel],
    latest: dict[str, list[SubmissionInfo]],
    rounds: dict[Tournament, RoundInfo | None],
    rows: list[OutcomeRow],
) -> Section:
    grid = build_grid(specs, account, latest, rounds, lambda t, a, b: rows, now=NOW, n=3)
    return grid.sections[0]


def test_doubtful_answer_is_unknown_never_missing() -> None:
    acct = [AccountModel("i1", "a", C)]
    doubt = SubmissionInfo(None, "i1", None, None, None, None, doubt="status is null")
    section = _grid([_spec("a")], acct, {"i1": [doubt]}, {C: CLOSED}, [])
    assert [c.mark for c in section.rows[0].cells] == [Mark.UNKNOWN] * 3
    assert section.rows[0].cells[0].reason == "status is null"


def test_the_ledger_explains_a_failure_the_apis_none_cannot() -> None:
    acct = [AccountModel("i1", "a", C)]
    latest = {"i1": [_sub("i1", 30, "none"), _sub("i1", 29, "none"), _sub("i1", 28, "on-time")]}
    rows = [
        _row("a", 29, "failed", "r1", error="boom", stage="download"),
        _row("a", 29, "failed", "r2", error="boom again", stage="predict"),
        _row("a", 30, "submitted", "r3", submission_id="s-lost"),
    ]
    section = _grid([_spec("a")], acct, latest, {C: CLOSED}, rows)
    assert section.rounds == (28, 29, 30)
    old, failed, lost = section.rows[0].cells
    assert old.mark is Mark.ON_TIME
    assert (failed.mark, failed.stage, failed.reason, failed.attempts) == (
        Mark.FAILED,
        "predict",
        "boom again",
        2,
    )
    # The ledger says it submitted, the API lists nothing: missing, and the cell says why.
    assert lost.mark is Mark.MISSING and "s-lost" in (lost.reason or "")


def test_open_round_is_due_and_odd_rows_are_noted() -> None:
    acct = [AccountModel("i1", "a", C), AccountModel("i2", "off", C), AccountModel("i3", "x", C)]
    latest = {i: [_sub(i, 30, "none")] for i in ("i1", "i2", "i3")}
    specs = [_spec("a"), _spec("off", enabled=False), _spec("typo")]
    section = _grid(specs, acct, latest, {C: OPEN}, [])
    by_name = {r.model: r for r in section.rows}
    assert [r.model for r in section.rows] == ["a", "off", "typo", "x"]
    assert by_name["a"].cells[-1].mark is Mark.DUE
    assert by_name["off"].cells[-1].mark is Mark.NOT_CONFIGURED
    assert by_name["off"].note == "enabled = false (a blend part)"
    assert by_name["typo"].note == "not in the account"
    assert not by_name["typo"].in_account
    assert by_name["x"].cells[-1].mark is Mark.NOT_CONFIGURED and not by_name["x"].configured


def test_decisive_prefers_the_submission_then_the_newest_failure() -> None:
    rows = [
        _row("A", 5, "failed", "r1", error="first"),
        _row("a", 5, "submitted", "r2", submission_id="s1"),
        _row("a", 5, "already", "r3", submission_id="s1"),
        _row("b", 5, "failed", "r1", error="first"),
        _row("b", 5, "interrupted", "r2", error="ctrl-c"),
    ]
    found = decisive(rows)
    a, b = found[("a", 5)], found[("b", 5)]
    assert (a.status, a.run_id, a.attempts, a.failures, a.error) == ("submitted", "r2", 3, 1, None)
    assert (b.status, b.error, b.attempts) == ("interrupted", "ctrl-c", 2)
