"""Credentials that arrive at run time stay out of the ledger and the output (issue 16): a
storage refusal echoing the presigned URL's signature, a healthcheck URL's ``user:password``;
and a malformed healthcheck URL stops nothing."""

from __future__ import annotations

from typing import Any

import pytest

from numerai_autopilot.client._classify import storage_error
from numerai_autopilot.redact import redact, redact_signed
from numerai_autopilot.sandbox import _s3echo
from support.invariants import check_invariants
from support.receiver import HC_TOKEN
from support.rig import CLASSIC, Rig


def test_an_s3_refusal_echoing_the_signature_reaches_neither_ledger_nor_output(
    rig: Rig, capfd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _s3echo.ECHOED.clear()
    rig.sb.inject("upload_fail", code=403, count=10, match="PUT", echo_signature=True)
    res = rig.cli(capfd=capfd)
    echoed = list(_s3echo.ECHOED)
    assert _s3echo.ACCESS_KEY_ID in echoed and len(echoed) >= 2  # the fault did fire
    reason = "refused: HTTP 403 SignatureDoesNotMatch"
    # The checker's "no secret in any output, alert, ledger or cache file", with the echo.
    base = rig.secrets()
    monkeypatch.setattr(rig, "secrets", lambda: [*base, *echoed])
    check_invariants(rig, res, exit_code=1, failed=dict.fromkeys(CLASSIC, reason))
    for outcome in res.outcomes().values():
        assert outcome["error"].endswith(reason), outcome["error"]  # status and code only
    for word in ("AWSAccessKeyId", "StringToSign", "SignatureProvided", "X-Amz-Signature="):
        assert word not in res.out


def test_a_failed_ping_names_the_host_never_user_and_password(rig: Rig, capfd: Any) -> None:
    rig.receiver.status = 500
    url = f"http://hc-user:hc-pass-8e7d6c@127.0.0.1:{rig.receiver.port}/hc/{HC_TOKEN}"
    res = rig.cli(capfd=capfd, NUMERAI_HEALTHCHECK_URL=url)
    assert res.code == 0, res.out[-2000:]
    assert "healthcheck ping / to 127.0.0.1 failed (HTTP 500)" in res.out
    for part in ("hc-user", "hc-pass-8e7d6c", HC_TOKEN, str(rig.receiver.port)):
        assert part not in res.out


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:notaport/hc", "ftp://x/y"])
def test_a_malformed_healthcheck_url_skips_the_pings_with_one_warning(
    rig: Rig, capfd: Any, url: str
) -> None:
    res = rig.cli(capfd=capfd, NUMERAI_HEALTHCHECK_URL=url)
    check_invariants(rig, res, exit_code=0, notified=False)
    assert res.out.count("NUMERAI_HEALTHCHECK_URL is not a valid http(s) URL") == 1
    assert res.pings() == []
    assert "Traceback" not in res.out


def test_storage_errors_keep_the_status_and_code_only() -> None:
    body = (
        "<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>AKIAX</AWSAccessKeyId>"
        "<SignatureProvided>abc</SignatureProvided></Error>"
    )
    assert storage_error(403, body) == "HTTP 403 SignatureDoesNotMatch"
    assert storage_error(400, "plain text with a token tok-123") == "HTTP 400"
    assert storage_error(403, "<Code>bad code with spaces</Code>") == "HTTP 403"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        (
            "https://b.s3.amazonaws.com/p.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAEXAMPLE%2F20261202&X-Amz-Security-Token=FQoG&X-Amz-Signature=5d67a1&X-Amz-"
            "Expires=900",
            ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=900"],
        ),
        ("https://s.blob.core.windows.net/c/f?sv=2024&sig=Zm9vYmFy%3D&se=2026", ["sv=2024"]),
        ("https://storage.googleapis.com/b/o?X-Goog-Signature=ab12&X-Goog-Date=1", ["Date=1"]),
        ("http://127.0.0.1:9/uploads/x?X-Expires=17&X-Signature=deadbeef", ["X-Expires=17"]),
        ("<AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><Code>AccessDenied</Code>", ["Denied"]),
    ],
)
def test_presigned_signatures_are_redacted_wherever_they_appear(text: str, kept: list[str]) -> None:
    for clean in (redact_signed(text), redact(text, [])):
        for secret in ("AKIAEXAMPLE", "5d67a1", "FQoG", "Zm9vYmFy", "ab12", "deadbeef"):
            assert secret not in clean
        for word in kept:
            assert word in clean
