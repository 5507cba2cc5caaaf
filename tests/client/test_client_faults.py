"""Every sandbox fault kind, as the client sees it: classified, retried within bounds, and never
a second submission when the first went through."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.clock import ManualClock
from numerai_autopilot.errors import (
    ApiError,
    InvalidSubmissionError,
    RoundClosedError,
    TransientError,
)
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.sandbox_http import model_of, predictions_csv, submit

CLASSIC = Tournament.CLASSIC


@pytest.fixture
def once(sb: Sandbox) -> Iterator[NumeraiClient]:
    """A client that does not retry: shows the raw classification."""
    with NumeraiClient(sb.url, sb.public_id, sb.secret_key, timeout=1.0, retry_attempts=1) as c:
        yield c


def graphql_count(sb: Sandbox, op: str) -> int:
    return int(sb.counters()["graphql"].get(op, 0))


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("status", {"code": 503}),
        ("status", {"code": 502}),
        ("status", {"code": 429}),
        ("non_json", {}),
        ("drop", {}),
        ("hang", {"seconds": 3}),
        ("slow", {"seconds": 3}),
        ("missing_fields", {"fields": ["rounds"]}),
    ],
)
def test_transport_faults_are_transient_then_retried_to_success(
    sb: Sandbox, once: NumeraiClient, api: NumeraiClient, kind: str, params: dict[str, Any]
) -> None:
    sb.inject(kind, match="rounds", **params)
    started = time.monotonic()
    with pytest.raises(TransientError):
        once.current_round(CLASSIC)
    assert time.monotonic() - started < 2.5  # timeout 1 s: a hang never holds us longer
    sb.inject(kind, match="rounds", **params)
    assert api.current_round(CLASSIC) is not None
    assert graphql_count(sb, "rounds") == 3


def test_retry_after_is_read_and_honoured(sb: Sandbox) -> None:
    clock = ManualClock()
    sb.inject("status", match="account", code=429, retry_after=7)
    with NumeraiClient(sb.url, sb.public_id, sb.secret_key, timeout=2, clock=clock) as api:
        assert api.account_models()
    assert len(clock.sleeps) == 1 and clock.sleeps[0] >= 7
    sb.inject("status", match="account", code=429, retry_after=3)
    with (
        NumeraiClient(sb.url, sb.public_id, sb.secret_key, retry_attempts=1) as api,
        pytest.raises(TransientError) as info,
    ):
        api.account_models()
    assert info.value.retry_after == 3


def test_retries_stop_at_the_deadline(sb: Sandbox) -> None:
    sb.inject("status", count=1000, code=503)
    started = time.monotonic()
    with (
        NumeraiClient(
            sb.url, retry_attempts=1000, retry_deadline=1.0, retry_wait_initial=0.2, timeout=1
        ) as api,
        pytest.raises(TransientError, match="gave up"),
    ):
        api.current_round(CLASSIC)
    assert time.monotonic() - started < 2.0


def test_slow_answer_within_the_timeout_is_fine(sb: Sandbox, api: NumeraiClient) -> None:
    sb.inject("slow", match="rounds", seconds=0.3)
    assert api.current_round(CLASSIC) is not None


def test_commit_then_failure_on_create_yields_exactly_one_submission(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("after_commit", match="createSubmission", code=500)
    sub_id = submit(api, sb, CLASSIC)
    stored = sb.submissions(model_of(sb, CLASSIC))
    assert [s["id"] for s in stored] == [sub_id]
    assert graphql_count(sb, "createSubmission") == 1  # reconciled, not re-sent


def test_create_failing_every_time_after_commit_still_makes_one(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("after_commit", count=10, match="createSubmission")
    sb.inject("after_commit", count=10, match="createSignalsSubmission")
    for tournament in (CLASSIC, Tournament.SIGNALS):
        sub_id = submit(api, sb, tournament)
        assert [s["id"] for s in sb.submissions(model_of(sb, tournament))] == [sub_id]


@pytest.mark.parametrize(("kind", "params"), [("status", {"code": 500}), ("hang", {"seconds": 3})])
def test_create_lost_before_commit_is_sent_again_once_absence_is_checked(
    sb: Sandbox, api: NumeraiClient, kind: str, params: dict[str, Any]
) -> None:
    sb.inject(kind, match="createSubmission", **params)
    sub_id = submit(api, sb, CLASSIC)
    assert [s["id"] for s in sb.submissions(model_of(sb, CLASSIC))] == [sub_id]
    assert graphql_count(sb, "createSubmission") == 2
    assert graphql_count(sb, "model") == 1  # the check before re-sending


def test_create_and_check_both_failing_reports_uncertainty_without_a_duplicate(
    sb: Sandbox,
) -> None:
    sb.inject("after_commit", count=100, match="createSubmission")
    sb.inject("status", count=100, match="model", code=503)
    with (
        NumeraiClient(
            sb.url, sb.public_id, sb.secret_key, retry_attempts=3, retry_wait_initial=0
        ) as api,
        pytest.raises(TransientError, match="next run checks"),
    ):
        submit(api, sb, CLASSIC)
    assert len(sb.submissions(model_of(sb, CLASSIC))) == 1
    assert graphql_count(sb, "createSubmission") == 1


def test_refused_upload_put_is_an_error_and_creates_nothing(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("upload_fail", code=403)
    with pytest.raises(InvalidSubmissionError, match="HTTP 403"):
        submit(api, sb, CLASSIC)
    assert sb.submissions() == []
    assert graphql_count(sb, "createSubmission") == 0


@pytest.mark.parametrize(
    ("kind", "params"), [("upload_fail", {"code": 503}), ("hang", {"seconds": 3}), ("drop", {})]
)
def test_failed_upload_put_is_retried(
    sb: Sandbox, api: NumeraiClient, kind: str, params: dict[str, Any]
) -> None:
    sb.inject(kind, match="PUT", **params)
    submit(api, sb, CLASSIC)
    assert len(sb.submissions()) == 1
    puts = sum(n for k, n in sb.counters()["http"].items() if k.startswith("PUT "))
    assert puts == 2


def test_round_closing_during_the_upload_is_round_closed(sb: Sandbox, api: NumeraiClient) -> None:
    sb.set_late_submissions(False)
    sb.inject("close_round", match="submissionUploadAuth", tournament=int(CLASSIC))
    with pytest.raises(RoundClosedError, match="not open"):
        submit(api, sb, CLASSIC)
    assert sb.submissions() == []


def test_naive_datetimes_are_read_as_utc(sb: Sandbox, api: NumeraiClient) -> None:
    expected = api.current_round(CLASSIC)
    sb.inject("naive_datetimes", match="rounds")
    drifted = api.current_round(CLASSIC)
    assert drifted == expected
    assert drifted is not None and drifted.open_time.tzinfo is not None
    assert drifted.is_open(datetime.now(UTC))


def test_missing_optional_round_field_falls_back_to_close_time(
    sb: Sandbox, api: NumeraiClient
) -> None:
    sb.inject("missing_fields", match="rounds", fields=["closeStakingTime"])
    rnd = api.current_round(CLASSIC)
    assert rnd is not None and rnd.close_staking_time is None
    assert rnd.deadline() == rnd.close_time


@pytest.mark.parametrize("field", ["tournament", "status", "latestSubmissions"])
def test_partial_answers_are_retried_not_read_as_fewer_models_or_submissions(
    sb: Sandbox, api: NumeraiClient, once: NumeraiClient, field: str
) -> None:
    submit(api, sb, CLASSIC)
    sb.inject("missing_fields", match="account", fields=[field])
    with pytest.raises(TransientError, match="lacks"):
        once.latest_submissions() if field != "tournament" else once.account_models()
    sb.inject("missing_fields", match="account", fields=[field])
    latest = api.latest_submissions()
    assert latest[model_of(sb, CLASSIC)][0].status == "on-time"


def test_error_without_message_is_an_api_error_with_a_readable_text(sb: Sandbox) -> None:
    sb.inject("missing_fields", match="account", fields=[], messages=False)
    with (
        NumeraiClient(sb.url, sb.public_id, "X" * 64, timeout=2) as api,
        pytest.raises(ApiError, match="without a message"),
    ):
        api.account_models()


def test_no_secret_in_logs_or_error_chains_across_faults(
    sb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[BaseException] = []
    with NumeraiClient(
        sb.url, sb.public_id, sb.secret_key, timeout=0.5, retry_attempts=2, retry_wait_initial=0
    ) as api:
        faults: list[tuple[str, dict[str, Any]]] = [
            ("status", {"code": 500}),
            ("hang", {"seconds": 2}),
            ("non_json", {}),
            ("drop", {}),
            ("after_commit", {}),
        ]
        for kind, params in faults:
            sb.inject(kind, count=2, **params)
            try:
                submit(api, sb, CLASSIC)
            except Exception as exc:
                errors.append(exc)
        sb.clear_faults()
        with pytest.raises(InvalidSubmissionError) as info:
            api.upload_submission(
                model_id=model_of(sb, CLASSIC),
                tournament=CLASSIC,
                round_number=1,
                data=predictions_csv(sb, CLASSIC)[:40],
                filename="p.csv",
            )
        errors.append(info.value)
    texts = [caplog.text, repr(api)]
    for err in errors:
        cur: BaseException | None = err
        while cur is not None:
            texts.append(f"{cur!r} {cur}")
            cur = cur.__cause__ or cur.__context__
    assert errors
    for text in texts:
        assert sb.secret_key not in text
        assert sb.public_id not in text
