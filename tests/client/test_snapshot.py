"""The idle-run snapshot (rounds + models + latest submissions) in one request, and its
fallbacks, against the sandbox."""

from __future__ import annotations

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.client._snapshot import take_snapshot
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

ALL = sorted(Tournament)


def test_snapshot_takes_one_request(sb: Sandbox, api: NumeraiClient) -> None:
    sb.reset_counters()
    snap = take_snapshot(api, ALL)
    assert sb.counters()["requests"] == 1 and snap.requests == 1
    assert all(snap.rounds[t] is not None for t in ALL)
    assert {m.id for m in snap.models} == set(snap.latest) == {m["id"] for m in sb.models}


def test_snapshot_between_rounds_falls_back_to_each_part(sb: Sandbox, api: NumeraiClient) -> None:
    sb.set_between_rounds("error")
    sb.close_round(int(Tournament.CLASSIC))
    snap = take_snapshot(api, ALL)
    assert snap.rounds[Tournament.CLASSIC] is None
    assert snap.rounds[Tournament.SIGNALS] is not None
    assert len(snap.models) == len(sb.models)


def test_snapshot_partial_answer_is_asked_again(sb: Sandbox, api: NumeraiClient) -> None:
    sb.inject("missing_fields", fields=["status"])
    snap = take_snapshot(api, ALL)
    assert snap.requests == 1
    assert sb.counters()["requests"] == 2
    assert all(s.status == "none" for subs in snap.latest.values() for s in subs)
