"""Each public call of NumeraiClient against the sandbox, over real HTTP."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pandas as pd
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.errors import (
    AuthError,
    InvalidSubmissionError,
    NotFoundError,
    RoundClosedError,
)
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.sandbox_http import model_of, predictions_csv, submit


@pytest.mark.parametrize("tournament", list(Tournament))
def test_current_round_is_open_with_aware_utc_times(
    api: NumeraiClient, tournament: Tournament
) -> None:
    rnd = api.current_round(tournament)
    assert rnd is not None
    assert rnd.tournament is tournament
    assert rnd.open_time.tzinfo is not None
    assert rnd.is_open(datetime.now(UTC))
    assert rnd.deadline() == rnd.close_staking_time
    assert not rnd.is_open(rnd.open_time.replace(year=rnd.open_time.year - 1))


def test_between_rounds_error_and_null_mean_none_last_means_a_closed_round(
    api: NumeraiClient, sb: Sandbox
) -> None:
    sb.close_round(int(Tournament.CLASSIC))
    sb.set_between_rounds("error")
    assert api.current_round(Tournament.CLASSIC) is None
    sb.set_between_rounds("null")
    assert api.current_round(Tournament.CLASSIC) is None
    sb.set_between_rounds("last")
    rnd = api.current_round(Tournament.CLASSIC)
    assert rnd is not None
    assert not rnd.is_open(datetime.now(UTC))


def test_account_models_lists_every_tournament_in_one_request(
    api: NumeraiClient, sb: Sandbox
) -> None:
    sb.reset_counters()
    models = api.account_models()
    assert {(m.id, m.name, int(m.tournament)) for m in models} == {
        (m["id"], m["name"], m["tournament"]) for m in sb.models
    }
    assert sb.counters()["requests"] == 1


def test_latest_submissions_shows_every_model_in_one_request(
    api: NumeraiClient, sb: Sandbox
) -> None:
    sub_id = submit(api, sb, Tournament.CLASSIC)
    sb.reset_counters()
    latest = api.latest_submissions()
    assert sb.counters()["requests"] == 1
    assert set(latest) == {m["id"] for m in sb.models}
    mine = latest[model_of(sb, Tournament.CLASSIC)]
    assert [(s.id, s.status) for s in mine] == [(sub_id, "on-time")]
    assert mine[0].filename is not None and mine[0].filename.startswith("predictions-")
    other = latest[model_of(sb, Tournament.CRYPTO)]
    assert all(s.status == "none" and s.id is None for s in other)


def test_model_submissions_fallback_lists_selected_submissions_of_that_tournament(
    api: NumeraiClient, sb: Sandbox
) -> None:
    model = model_of(sb, Tournament.CLASSIC)
    assert api.model_submissions(model, Tournament.CLASSIC) == []
    first = submit(api, sb, Tournament.CLASSIC)
    second = submit(api, sb, Tournament.CLASSIC)
    subs = api.model_submissions(model, Tournament.CLASSIC)
    assert [s.id for s in subs] == [second]  # the newer one is the selected one
    assert first != second
    rnd = api.current_round(Tournament.CLASSIC)
    assert rnd is not None and subs[0].round_number == rnd.number
    with pytest.raises(NotFoundError):
        api.model_submissions("00000000-0000-4000-8000-000000000000", Tournament.CLASSIC)


def test_datasets_are_listed_and_have_download_urls(api: NumeraiClient, sb: Sandbox) -> None:
    names = api.list_datasets(Tournament.CLASSIC)
    assert "v5.2/live.parquet" in names
    url = api.dataset_url("v5.2/live.parquet", Tournament.CLASSIC)
    assert api.http.get(url).status_code == 200
    signals = api.list_datasets(Tournament.SIGNALS)
    assert all(n.startswith("signals/") for n in signals)
    with pytest.raises(NotFoundError, match=r"v9\.9"):
        api.dataset_url("v9.9/live.parquet", Tournament.CLASSIC)


@pytest.mark.parametrize("tournament", list(Tournament))
def test_upload_creates_exactly_one_submission_per_tournament(
    api: NumeraiClient, sb: Sandbox, tournament: Tournament
) -> None:
    sub_id = submit(api, sb, tournament, trigger_id="trigger-1")
    stored = sb.submissions(model_of(sb, tournament))
    assert [(s["id"], s["trigger_id"], s["status"]) for s in stored] == [
        (sub_id, "trigger-1", "on-time")
    ]
    sent = pd.read_csv(io.BytesIO(predictions_csv(sb, tournament)))
    got = sb.submission_frame(sub_id)
    assert len(got) == len(sent)


def test_webhook_is_set(api: NumeraiClient, sb: Sandbox) -> None:
    model = model_of(sb, Tournament.CLASSIC)
    assert api.set_submission_webhook(model, "https://example.org/hook") is True
    assert api.set_submission_webhook(model, None) is True


def test_invalid_predictions_raise_invalid_submission_and_create_nothing(
    api: NumeraiClient, sb: Sandbox
) -> None:
    rnd = api.current_round(Tournament.CLASSIC)
    assert rnd is not None
    with pytest.raises(InvalidSubmissionError, match="submission"):
        api.upload_submission(
            model_id=model_of(sb, Tournament.CLASSIC),
            tournament=Tournament.CLASSIC,
            round_number=rnd.number,
            data=b"id,prediction\nn000,0.5\n",
            filename="predictions.csv",
        )
    assert sb.submissions() == []


def test_submitting_to_a_closed_round_is_round_closed(api: NumeraiClient, sb: Sandbox) -> None:
    rnd = api.current_round(Tournament.CLASSIC)
    assert rnd is not None
    sb.set_late_submissions(False)
    sb.close_round(int(Tournament.CLASSIC))
    with pytest.raises(RoundClosedError):
        api.upload_submission(
            model_id=model_of(sb, Tournament.CLASSIC),
            tournament=Tournament.CLASSIC,
            round_number=rnd.number,
            data=predictions_csv(sb, Tournament.CLASSIC),
            filename="predictions.csv",
        )
    assert sb.submissions() == []


def test_unknown_model_is_not_found(api: NumeraiClient, sb: Sandbox) -> None:
    with pytest.raises(NotFoundError, match="Model not found"):
        api.upload_submission(
            model_id="00000000-0000-4000-8000-000000000000",
            tournament=Tournament.CLASSIC,
            round_number=1,
            data=predictions_csv(sb, Tournament.CLASSIC),
            filename="predictions.csv",
        )


def test_bad_key_is_an_auth_error_that_names_the_fix_and_not_the_secret(sb: Sandbox) -> None:
    wrong = "WRONGSECRET" + sb.secret_key[11:]
    with (
        NumeraiClient(sb.url, sb.public_id, wrong, timeout=2) as api,
        pytest.raises(AuthError) as info,
    ):
        api.account_models()
    text = str(info.value)
    assert "Your session is invalid or has expired." in text
    assert "NUMERAI_SECRET_KEY" in text
    assert wrong not in text and sb.public_id not in text
    assert sb.counters()["graphql"].get("account") == 1  # never retried


def test_missing_scope_is_an_auth_error_naming_the_scope(sb: Sandbox) -> None:
    public, secret = sb.add_key(["read_user_info", "read_submission_info"])
    with NumeraiClient(sb.url, public, secret, timeout=2) as api:
        assert api.account_models()  # allowed
        with pytest.raises(AuthError, match="lacks the upload_submission permission") as info:
            submit(api, sb, Tournament.CLASSIC)
    assert secret not in str(info.value)
    assert sb.submissions() == []


def test_calls_needing_a_key_fail_clearly_without_one(sb: Sandbox) -> None:
    with NumeraiClient(sb.url, timeout=2) as api:
        assert api.current_round(Tournament.CLASSIC) is not None  # public
        with pytest.raises(AuthError, match="NUMERAI_PUBLIC_ID"):
            api.account_models()
