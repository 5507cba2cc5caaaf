"""Numerai's error texts map to the right branch of the error tree, message kept verbatim."""

from __future__ import annotations

import pytest

from numerai_autopilot.client._classify import classify_graphql, messages_of, retry_after_seconds
from numerai_autopilot.errors import (
    ApiError,
    AuthError,
    InvalidSubmissionError,
    NotFoundError,
    NumeraiError,
    RoundClosedError,
    TransientError,
)


@pytest.mark.parametrize(
    ("message", "creating", "expected"),
    [
        ("Your session is invalid or has expired.", False, AuthError),
        ("Insufficient permission for upload_submission", True, AuthError),
        ("Current round not open for submissions", False, RoundClosedError),
        ("Current round not open for submissions", True, RoundClosedError),
        ("Model not found", False, NotFoundError),
        ("Model not found", True, NotFoundError),
        ("Dataset v9.9/live.parquet not found", False, NotFoundError),
        (
            "Submission file not found: PUT the file to the upload URL before creating",
            True,
            InvalidSubmissionError,
        ),
        (
            "invalid_submission_values: submission must not contain NaNs",
            True,
            InvalidSubmissionError,
        ),
        ("invalid_submission_ids: Not enough stocks submitted.", True, InvalidSubmissionError),
        ("Internal server error", True, TransientError),
        ("modelId is required: this account has several models", False, ApiError),
        ("Something nobody anticipated", False, ApiError),
    ],
)
def test_graphql_error_texts_map_to_their_class_and_keep_the_message(
    message: str, creating: bool, expected: type[NumeraiError]
) -> None:
    err = classify_graphql("op", [{"message": message, "path": ["op"]}], creating=creating)
    assert type(err) is expected
    assert message in str(err)


def test_auth_errors_say_what_to_fix() -> None:
    bad_key = classify_graphql("account", [{"message": "Your session is invalid or has expired."}])
    assert "NUMERAI_SECRET_KEY" in str(bad_key)
    scope = classify_graphql("create", [{"message": "Insufficient permission for stake"}])
    assert "lacks the stake permission" in str(scope)


def test_error_object_without_message_gets_a_readable_text() -> None:
    err = classify_graphql("rounds", [{"extensions": {"code": "X"}}])
    assert type(err) is ApiError
    assert "without a message" in str(err)
    assert '"code": "X"' in str(err)
    assert messages_of([]) == ["an empty error list"]


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
