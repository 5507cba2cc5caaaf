"""Transport failures the sandbox cannot produce (refused connection, protocol errors) are
transient, and no message ever carries the API key. httpx.MockTransport stands in for the
network only here; everything else is tested against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.errors import ConfigError, TransientError
from numerai_autopilot.tournaments import Tournament

PUBLIC, SECRET = "PUBLICID0123456789", "SECRETKEY9876543210ABCDEF"


def client_raising(exc: Exception, attempts: int = 2) -> tuple[NumeraiClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise exc

    client = NumeraiClient(
        "https://api.example/",
        PUBLIC,
        SECRET,
        transport=httpx.MockTransport(handler),
        retry_attempts=attempts,
        retry_wait_initial=0,
    )
    return client, seen


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.ReadError(f"reset while sending Token {PUBLIC}${SECRET}"),
        httpx.PoolTimeout("no connection available"),
    ],
)
def test_transport_failures_are_transient_retried_and_scrubbed(exc: Exception) -> None:
    client, seen = client_raising(exc)
    with pytest.raises(TransientError) as info:
        client.account_models()
    assert len(seen) == 2  # retried once, then gave up
    assert SECRET not in str(info.value)
    assert PUBLIC not in str(info.value)
    assert seen[0].headers["authorization"] == f"Token {PUBLIC}${SECRET}"


def test_public_calls_send_no_authorization_header() -> None:
    client, seen = client_raising(httpx.ConnectError("refused"), attempts=1)
    with pytest.raises(TransientError):
        client.current_round(Tournament.CLASSIC)
    assert "authorization" not in seen[0].headers


def test_keys_with_whitespace_or_one_half_missing_are_refused_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as info:
        NumeraiClient("https://api.example/", PUBLIC, SECRET + "\n")
    assert SECRET not in str(info.value)
    assert "NUMERAI_SECRET_KEY" in str(info.value)
    with pytest.raises(ConfigError, match="both halves"):
        NumeraiClient("https://api.example/", PUBLIC, None)


def test_repr_shows_no_secret() -> None:
    client, _ = client_raising(httpx.ConnectError("x"))
    assert SECRET not in repr(client)
    assert PUBLIC not in repr(client)
