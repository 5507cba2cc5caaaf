from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from numerai_autopilot.client import AccountModel, RoundInfo, SubmissionInfo
from numerai_autopilot.config import ModelSpec
from numerai_autopilot.run.plan import State, make_plan
from numerai_autopilot.tournaments import Tournament

C, S = Tournament.CLASSIC, Tournament.SIGNALS
NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)


def spec(name: str, t: Tournament = C, **kw: Any) -> ModelSpec:
    return ModelSpec(name=name, tournament=t, format="lightgbm", artifact=Path("/m") / name, **kw)


def rnd(t: Tournament, n: int) -> RoundInfo:
    return RoundInfo(
        t, n, NOW - timedelta(minutes=30), NOW + timedelta(minutes=30), NOW + timedelta(minutes=30)
    )


def sub(model_id: str, n: int, status: str = "on-time") -> SubmissionInfo:
    return SubmissionInfo("s-" + model_id, model_id, n, "x.csv", status, NOW)


ACCOUNT = [AccountModel("id-a", "a", C), AccountModel("id-b", "b", C), AccountModel("id-s", "s", S)]


def test_submitted_for_current_round_is_not_due() -> None:
    p = make_plan(
        [spec("a"), spec("b")],
        ACCOUNT,
        {C: rnd(C, 900)},
        {"id-a": [sub("id-a", 900)], "id-b": [sub("id-b", 899)]},
        {C: True},
    )
    states = {m.name: m.state for m in p.models}
    assert states == {"a": State.SUBMITTED, "b": State.PENDING}
    assert [m.name for m in p.pending] == ["b"]


def test_status_none_counts_as_missing() -> None:
    p = make_plan(
        [spec("a")], ACCOUNT, {C: rnd(C, 900)}, {"id-a": [sub("id-a", 900, "none")]}, {C: True}
    )
    assert p.models[0].state is State.PENDING


def test_model_names_match_case_insensitively_and_by_tournament() -> None:
    p = make_plan([spec("A"), spec("s", C)], ACCOUNT, {C: rnd(C, 900)}, {}, {C: True})
    assert p.models[0].state is State.PENDING and p.models[0].model_id == "id-a"
    assert p.models[1].state is State.UNKNOWN_MODEL
    assert "is in signals, not classic" in (p.models[1].reason or "")


def test_unknown_model_reason_says_what_to_fix() -> None:
    p = make_plan([spec("zzz")], ACCOUNT, {C: rnd(C, 900)}, {}, {C: True})
    assert p.models[0].state is State.UNKNOWN_MODEL
    assert "no model named 'zzz'" in (p.models[0].reason or "")


def test_closed_round_means_no_round_for_that_tournament_only() -> None:
    p = make_plan(
        [spec("a"), spec("s", S)], ACCOUNT, {C: rnd(C, 900), S: None}, {}, {C: True, S: False}
    )
    assert [m.state for m in p.models] == [State.PENDING, State.NO_ROUND]


def test_blend_components_predict_even_when_submitted_or_disabled() -> None:
    specs = [
        spec("a"),
        spec("helper", enabled=False),
        ModelSpec(
            name="b", tournament=C, format="blend", artifact=None, blend={"a": 1.0, "helper": 1.0}
        ),
    ]
    p = make_plan(specs, ACCOUNT, {C: rnd(C, 900)}, {"id-a": [sub("id-a", 900)]}, {C: True})
    m = {x.name: x for x in p.models}
    assert m["a"].state is State.SUBMITTED and m["a"].predict and not m["a"].upload
    assert m["helper"].state is State.DISABLED and m["helper"].predict
    assert m["b"].state is State.PENDING and m["b"].upload


def test_nothing_due_means_nothing_to_predict() -> None:
    p = make_plan([spec("a")], ACCOUNT, {C: rnd(C, 900)}, {"id-a": [sub("id-a", 900)]}, {C: True})
    assert p.to_predict == []


def test_one_name_listed_for_two_ids_fails_both_entries_naming_the_conflict() -> None:
    # The account answer lists "a" twice: its own id and b's. Never pick one.
    account = [*ACCOUNT, AccountModel("id-b", "a", C)]
    p = make_plan([spec("a"), spec("b")], account, {C: rnd(C, 900)}, {}, {C: True})
    by = {m.name: m for m in p.models}
    assert by["a"].state is State.CONFLICT and by["a"].model_id is None
    assert "list 'a' 2 times, with ids id-a, id-b" in (by["a"].reason or "")
    # b's id is listed under two names: the answer cannot be trusted for b either.
    assert by["b"].state is State.CONFLICT
    assert "id id-b of 'b' under several names (a, b)" in (by["b"].reason or "")
    assert p.pending == []


def test_the_same_model_listed_twice_is_no_conflict() -> None:
    account = [*ACCOUNT, AccountModel("id-a", "a", C)]
    p = make_plan([spec("a")], account, {C: rnd(C, 900)}, {}, {C: True})
    assert p.models[0].state is State.PENDING and p.models[0].model_id == "id-a"


def test_an_unsettled_doubt_is_neither_submitted_nor_due() -> None:
    unsure = SubmissionInfo(None, "id-a", None, None, None, None, doubt="roundNumber is null")
    p = make_plan([spec("a")], ACCOUNT, {C: rnd(C, 900)}, {"id-a": [unsure]}, {C: True})
    m = p.models[0]
    assert m.state is State.UNSURE and not m.predict and p.pending == []
    assert "cannot say whether 'a' already submitted classic round 900" in (m.reason or "")
    assert "roundNumber is null" in (m.reason or "")
