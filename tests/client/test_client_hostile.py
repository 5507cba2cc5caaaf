"""Hostile answers, as the client reads them against the sandbox (issue 16): a null in an
identifying field or an unknown status is settled by a second look at that model, never read
as "nothing submitted"; integers out of range and malformed URLs are one clear ApiError."""

from __future__ import annotations

import logging

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.client._snapshot import take_snapshot
from numerai_autopilot.errors import ApiError
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.sandbox_http import model_of, predictions_csv, submit

CLASSIC = Tournament.CLASSIC
ANAS = "anas_platyrhynchos"  # model_of(sb, CLASSIC)


def current(api: NumeraiClient) -> int:
    rnd = api.current_round(CLASSIC)
    assert rnd is not None
    return rnd.number


@pytest.mark.parametrize("fields", [["roundNumber"], ["status"], ["id"], ["id", "status"]])
def test_a_null_in_an_identifying_field_of_a_submitted_model_is_settled_as_submitted(
    sb: Sandbox, api: NumeraiClient, fields: list[str]
) -> None:
    sub_id = submit(api, sb, CLASSIC)
    sb.inject("null_fields", model=ANAS, fields=fields)
    sb.reset_counters()
    snap = take_snapshot(api, [CLASSIC])
    entries = snap.latest[model_of(sb, CLASSIC)]
    assert [(s.id, s.round_number, s.doubt) for s in entries] == [(sub_id, current(api), None)]
    # One snapshot request, then one second look at that model alone.
    assert snap.requests == 2 and sb.counters()["graphql"].get("model") == 1


def test_a_null_round_number_of_a_model_without_submission_is_settled_as_none(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("null_fields", model=ANAS, fields=["roundNumber"])
    assert api.latest_submissions()[model_of(sb, CLASSIC)] == []


def test_a_null_that_the_second_look_cannot_settle_stays_a_doubt(
    sb: Sandbox, api: NumeraiClient
) -> None:
    submit(api, sb, CLASSIC)
    sb.inject("null_fields", model=ANAS, fields=["roundNumber"])
    sb.inject("status", code=500, count=10, match="model")
    [entry] = take_snapshot(api, [CLASSIC]).latest[model_of(sb, CLASSIC)]
    assert entry.doubt is not None
    assert "roundNumber is null" in entry.doubt and "second look failed" in entry.doubt
    assert entry.round_number is None and entry.id is None


def test_an_unknown_status_warns_with_its_text_and_a_selected_submission_still_counts(
    sb: Sandbox, api: NumeraiClient, caplog: pytest.LogCaptureFixture
) -> None:
    sub_id = submit(api, sb, CLASSIC)
    sb.inject("unknown_status", model=ANAS, status="rejected")
    with caplog.at_level(logging.WARNING):
        latest = api.latest_submissions()
    assert [(s.id, s.doubt) for s in latest[model_of(sb, CLASSIC)]] == [(sub_id, None)]
    assert "'rejected'" in caplog.text and ANAS in caplog.text


def test_an_unknown_status_without_a_selected_submission_is_not_submitted(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("unknown_status", model=ANAS, status="rejected")
    assert api.latest_submissions()[model_of(sb, CLASSIC)] == []


@pytest.mark.parametrize("value", [2**63, -1, 0, True, 2.5, "12x"])
def test_a_round_number_out_of_range_is_one_clear_api_error(
    sb: Sandbox, api: NumeraiClient, value: object
) -> None:
    sb.inject("bad_integer", match="rounds", value=value)
    with pytest.raises(ApiError, match="round number"):
        api.current_round(CLASSIC)
    sb.inject("bad_integer", match="rounds", value=value)
    with pytest.raises(ApiError, match="round number"):
        take_snapshot(api, [CLASSIC])


def test_a_huge_round_number_in_latest_submissions_is_settled_by_a_second_look(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sub_id = submit(api, sb, CLASSIC)
    sb.inject("bad_integer", match="latestSubmissions", model=ANAS, value=2**63)
    [entry] = api.latest_submissions()[model_of(sb, CLASSIC)]
    assert (entry.id, entry.round_number, entry.doubt) == (sub_id, current(api), None)


@pytest.mark.parametrize("url", ["http://[::1", "ftp://example.invalid/x", "not a url", "http://"])
def test_a_malformed_dataset_url_is_one_clear_api_error(
    sb: Sandbox, api: NumeraiClient, url: str
) -> None:
    sb.inject("bad_url", match="dataset", url=url)
    with pytest.raises(ApiError, match="malformed download URL") as err:
        api.dataset_url("v5.2/live.parquet", CLASSIC)
    assert url not in str(err.value) or url == "http://"


def test_a_malformed_upload_url_fails_the_upload_and_creates_nothing(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("bad_url", match="submissionUploadAuth")
    with pytest.raises(ApiError, match="malformed upload URL"):
        api.upload_submission(
            model_id=model_of(sb, CLASSIC),
            tournament=CLASSIC,
            round_number=current(api),
            data=predictions_csv(sb, CLASSIC),
            filename="predictions.csv",
        )
    assert sb.submissions() == [] and sb.counters()["uploads"] == 0


def test_one_name_listed_for_two_ids_reaches_the_plan_as_two_models(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("duplicate_name", name=ANAS, other="netta_rufina")
    named = [m.id for m in api.account_models() if m.name == ANAS]
    assert len(set(named)) == 2  # never collapsed to one: the plan refuses both (test_plan)


def test_a_null_submissions_list_is_settled_by_a_second_look(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sub_id = submit(api, sb, CLASSIC)
    sb.inject("null_fields", model=ANAS, fields=["latestSubmissions"])
    assert [s.id for s in api.latest_submissions()[model_of(sb, CLASSIC)]] == [sub_id]
