"""The idle-run snapshot (rounds + models + latest submissions) in one request, and its
fallbacks, against the sandbox."""

from __future__ import annotations

import logging

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.client._snapshot import rejected_field, take_snapshot
from numerai_autopilot.errors import ApiError
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


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("field", ["filename", "roundNumber", "timestamp"])
def test_numerai_rejecting_a_latest_submission_field_degrades_to_each_model(
    sb: Sandbox, api: NumeraiClient, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    sb.inject("unknown_field", count=100, type="LatestSubmission", field=field)
    sb.reset_counters()
    caplog.set_level(logging.WARNING)
    snap = take_snapshot(api, ALL)
    ids = {m["id"] for m in sb.models}
    assert {m.id for m in snap.models} == set(snap.latest) == ids
    ops = sb.counters()["graphql"]
    # The rejected snapshot once (a validation error is not retried), then each part.
    assert ops["account"] == 2 and ops["rounds"] == 2 * len(ALL) and ops["model"] == len(ids)
    assert snap.requests == len(ALL) + 1 + len(ids)
    (warning,) = _warnings(caplog)
    assert f"rejects the snapshot's LatestSubmission.{field}" in warning
    assert f'Cannot query field "{field}" on type "LatestSubmission"' in warning


def test_numerai_rejecting_a_round_field_degrades_to_each_part(
    sb: Sandbox, api: NumeraiClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Asked on its own, the round query does without the field too: one request each."""
    sb.inject("unknown_field", count=1, type="Round", field="closeStakingTime")
    caplog.set_level(logging.WARNING)
    snap = take_snapshot(api, ALL)
    assert snap.requests == len(ALL) + 2  # each round, the models, their latest submissions
    assert all(snap.rounds[t] is not None for t in ALL)
    (warning,) = _warnings(caplog)
    assert "Round.closeStakingTime" in warning and "asking each part" in warning


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (
            'Cannot query field "roundOpen" on type "LatestSubmission".',
            "LatestSubmission.roundOpen",
        ),
        ("Cannot query field 'x' on type 'Model'. Did you mean 'id'?", "Model.x"),
        (
            'Unknown argument "latestNRounds" on field "latestSubmissions" of type "Model".',
            "latestSubmissions(latestNRounds:)",
        ),
        (
            "Unknown argument 'number' on field 'Query.rounds'.",
            "rounds(number:)",
        ),
        ('Field "models" of type "[Model]" must have a selection of subfields.', "models"),
        ('Argument "tournament" has invalid value "x".', "tournament"),
        ('Unknown type "Foo".', "Foo"),
        ("Numerai refused snapshot: Internal error", None),
        ("Numerai refused snapshot: the model latestSubmissions is busy", None),
    ],
)
def test_validation_errors_are_named_by_their_field(message: str, field: str | None) -> None:
    assert rejected_field(message) == field


def test_other_api_errors_still_stop_the_snapshot(sb: Sandbox, api: NumeraiClient) -> None:
    sb.inject("status", code=400)
    with pytest.raises(ApiError):
        take_snapshot(api, ALL)
