"""Transient API faults are retried within bounds and converge; permanent ones fail at once with
what to fix; a create is never repeated into a duplicate (issue 4: error handling by class)."""

from __future__ import annotations

from typing import Any

from support.invariants import check_invariants
from support.rig import CLASSIC, Rig


def test_503_on_the_status_request_is_retried_and_all_submit(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("status", code=503, count=2, match="account")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert rig.sb.counters()["graphql"]["account"] >= 3


def test_429_with_retry_after_is_waited_out_on_the_create(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("status", code=429, retry_after=1, count=1, match="createSubmission")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert "HTTP 429" in res.out and "retry 1" in res.out


def test_create_committed_then_500_never_duplicates(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("after_commit", count=3, match="createSubmission")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert rig.sb.counters()["graphql"]["createSubmission"] == 3  # reconciled, never re-sent


def test_hung_dataset_listing_times_out_and_is_retried(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("hang", seconds=4, count=1, match="listDatasets")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert "did not answer in time" in res.out
    assert "NUMERAI_HTTP_TIMEOUT or --http-timeout" in res.out  # what raises the limit


def test_dropped_upload_auth_is_retried(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("drop", count=2, match="submissionUploadAuth")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)


def test_html_instead_of_json_is_transient(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("non_json", count=1, match="account")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert "not JSON" in res.out


def test_truncated_live_download_resumes_and_no_partial_is_used(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("truncate", count=1, match="live.parquet")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert rig.sb.counters()["ranged"] >= 1


def test_range_ignored_after_truncation_restarts_the_file(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("truncate", count=1, match="live.parquet")
    rig.sb.inject("ignore_range", count=1, match="live.parquet")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)


def test_failed_upload_puts_are_retried(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("upload_fail", code=500, count=2, match="PUT")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)


def test_partial_answer_is_asked_again_not_read_as_no_models(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("missing_fields", count=1, match="account", fields=["tournament"])
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)


def test_create_failing_every_time_names_each_model_and_a_rerun_converges(
    rig: Rig, capfd: Any
) -> None:
    rig.sb.inject("status", code=503, count=1000, match="createSubmission")
    first = rig.cli(capfd=capfd)
    reasons = dict.fromkeys(CLASSIC, "HTTP 503")
    check_invariants(rig, first, exit_code=1, failed=reasons)
    rig.sb.clear_faults()
    second = rig.cli(capfd=capfd)
    check_invariants(rig, second, exit_code=0, outputs=[first.out])


def test_bad_key_fails_at_once_with_what_to_fix(rig: Rig, capfd: Any) -> None:
    rig.sb.reset_counters()
    res = rig.cli(capfd=capfd, NUMERAI_SECRET_KEY="X" * 64)
    check_invariants(
        rig, res, exit_code=2, crashed="check NUMERAI_PUBLIC_ID and NUMERAI_SECRET_KEY"
    )
    assert rig.sb.counters()["graphql"].get("account") == 1  # never retried
    assert "X" * 64 not in res.out


def test_key_without_upload_scope_fails_each_model_naming_the_scope(rig: Rig, capfd: Any) -> None:
    public, secret = rig.sb.add_key(["read_user_info", "read_submission_info"])
    rig.extra_env.update(NUMERAI_PUBLIC_ID=public, NUMERAI_SECRET_KEY=secret)
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig, res, exit_code=1, failed=dict.fromkeys(CLASSIC, "lacks the upload_submission")
    )
    assert secret not in res.out


def test_unknown_model_fails_alone_and_the_others_submit(rig: Rig, capfd: Any) -> None:
    rig.write_models([*CLASSIC, "no_such_model"])
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig,
        res,
        exit_code=1,
        failed={"no_such_model": "no model named 'no_such_model'"},
        models=[*CLASSIC, "no_such_model"],
    )


def test_crashing_and_invalid_models_fail_alone_with_their_reasons(rig: Rig, capfd: Any) -> None:
    rig.knobs(**{"raise": ["netta_rufina"], "nan": ["corvus_corone"]})
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig,
        res,
        exit_code=1,
        failed={"netta_rufina": "exploded on purpose", "corvus_corone": "NaN"},
    )


def test_api_unreachable_is_a_failed_run_that_alerts(rig: Rig, capfd: Any) -> None:
    res = rig.cli(capfd=capfd, NUMERAI_API_URL="http://127.0.0.1:9/")  # nothing listens
    check_invariants(rig, res, exit_code=1, crashed="gave up on snapshot after 4 attempt(s)")
    assert rig.sb.submissions() == []
