"""Any ``latestSubmissions`` entry, however odd, either says clearly whether the model submitted
the round or carries a doubt: never a guess (issue 16). Property-based over the fields' values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from numerai_autopilot.client import AccountModel, RoundInfo
from numerai_autopilot.client._parse import MAX_INT, parse_latest
from numerai_autopilot.client._types import KNOWN_STATUSES
from numerai_autopilot.config import ModelSpec
from numerai_autopilot.errors import NumeraiError
from numerai_autopilot.run.plan import State, make_plan
from numerai_autopilot.tournaments import Tournament

C = Tournament.CLASSIC
NOW = datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
ODD: list[Any] = [None, True, False, -1, 0, 2**31, 2**63, 1.5, "", "x", [], {}]

ids = st.sampled_from([None, "", "sub-1", 7, *ODD])
rounds = st.one_of(st.sampled_from([900, "900", 899, *ODD]), st.integers())
statuses = st.sampled_from([*sorted(KNOWN_STATUSES), "rejected", "ON-TIME", None, "", 3])


@settings(max_examples=300, deadline=None)
@given(sub_id=ids, number=rounds, status=statuses)
def test_every_entry_is_clear_or_doubtful(sub_id: Any, number: Any, status: Any) -> None:
    raw = [
        {"id": "m", "latestSubmissions": [{"id": sub_id, "roundNumber": number, "status": status}]}
    ]
    try:
        [entry] = parse_latest("t", raw)["m"]
    except NumeraiError:
        return  # a shape the client refuses outright is an error, not a guess
    if entry.doubt is None:
        assert entry.status in KNOWN_STATUSES
        assert isinstance(entry.round_number, int) and 1 <= entry.round_number <= MAX_INT
        assert entry.id is not None or entry.status == "none"
    spec = ModelSpec(name="a", tournament=C, format="lightgbm", artifact=Path("/m/a"))
    rnd = RoundInfo(C, 900, NOW - timedelta(minutes=5), NOW + timedelta(hours=1), None)
    plan = make_plan([spec], [AccountModel("m", "a", C)], {C: rnd}, {"m": [entry]}, {C: True})
    state = plan.models[0].state
    if entry.doubt is not None:
        assert state is State.UNSURE  # never due, never "already"
    elif entry.round_number == 900 and entry.status != "none":
        assert state is State.SUBMITTED
    else:
        assert state is State.PENDING


def test_a_null_submissions_list_is_a_doubt_not_no_submissions() -> None:
    [entry] = parse_latest("t", [{"id": "m", "latestSubmissions": None}])["m"]
    assert entry.doubt == "latestSubmissions is null"
