"""The webhook trigger over real HTTP, against the sandbox: who may call, and one run at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from numerai_autopilot.config import Settings
from numerai_autopilot.errors import ConfigError
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.schedule import (
    Backoff,
    FailureLimiter,
    WebhookServer,
    require_secret,
    start_server,
)
from support.rig import settings_for
from support.workshop import Workshop

SECRET = "wh-test-secret-" + "k" * 30
MODELS = ("wh_alpha", "wh_beta")


@pytest.fixture
def settings(rsb: Sandbox, tmp_path: Path) -> Settings:
    w = Workshop(rsb, tmp_path / "models", tmp_path / "train-cache")
    for name in MODELS:
        w.function(name)
    w.write_toml()
    w.close()
    return settings_for(rsb, tmp_path, webhook_secret=SECRET)


@pytest.fixture
def server(settings: Settings) -> Iterator[WebhookServer]:
    srv = start_server(
        settings,
        port=0,
        backoff=Backoff(first=0.2, attempts=2),
        limiter=FailureLimiter(limit=3, window=60),
    )
    yield srv
    srv.stop()


def _post(url: str, **kw: Any) -> httpx.Response:
    return httpx.post(url, timeout=30, **kw)


def test_a_burst_of_calls_starts_one_run_that_carries_the_trigger_id(
    server: WebhookServer, rsb: Sandbox, settings: Settings
) -> None:
    url = f"{server.url}/webhook/{SECRET}?triggerId=round-open-42"
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _i: _post(url), range(20)))
    assert {a.status_code for a in answers} == {202}
    outcomes = sorted(a.json()["status"] for a in answers)
    assert outcomes == ["coalesced"] * 19 + ["started"]
    assert server.trigger.wait_idle(90), "the run did not finish in 90 s"
    for name in MODELS:
        (sub,) = rsb.submissions(name)
        assert sub["trigger_id"] == "round-open-42"
    with Ledger(settings.state_path) as ledger:
        runs = ledger.runs()
    assert len(runs) == 1
    health = httpx.get(f"{server.url}/health", timeout=10).json()
    assert health["calls"]["started"] == 1 and health["calls"]["coalesced"] == 19
    assert health["running"] is False
    last = health["last_run"]
    assert last["ok"] is True and last["exit_code"] == 0 and last["summary"]["submitted"] == 2
    # A call after the run, within the minimum interval, is folded too: still one run.
    assert _post(url).json()["status"] == "coalesced"


def test_trigger_id_in_a_json_body_with_a_bearer_token(server: WebhookServer, rsb: Sandbox) -> None:
    answer = _post(
        f"{server.url}/webhook",
        headers={"Authorization": f"Bearer {SECRET}"},
        json={"trigger_id": "from-body-7"},
    )
    assert answer.status_code == 202 and answer.json() == {"status": "started"}
    assert server.trigger.wait_idle(90)
    assert {s["trigger_id"] for s in rsb.submissions()} == {"from-body-7"}


def test_unauthenticated_calls_are_refused_then_rate_limited(
    server: WebhookServer, rsb: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = _post(f"{server.url}/webhook/{SECRET[:-1]}x")
    assert wrong.status_code == 404
    bearer = _post(f"{server.url}/webhook", headers={"Authorization": "Bearer nope"})
    assert bearer.status_code == 401 and bearer.headers["WWW-Authenticate"] == "Bearer"
    assert _post(f"{server.url}/webhook").status_code == 401  # no credentials at all
    limited = _post(f"{server.url}/anything")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    health = httpx.get(f"{server.url}/health", timeout=10).json()
    assert health["calls"] == {"started": 0, "coalesced": 0, "refused": 3, "limited": 1}
    assert rsb.submissions() == []
    # A limited address is still served with the right secret: refusals never lock Numerai out
    # (behind a proxy every caller has the proxy's address).
    assert _post(f"{server.url}/webhook/{SECRET}").json() == {"status": "started"}
    assert server.trigger.wait_idle(90)
    assert len(rsb.submissions()) == len(MODELS)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("numerai_autopilot")]
    assert any("/webhook/***" in m for m in ours)  # requests were logged, masked
    assert not any(SECRET in m for m in ours)


def test_bad_requests_after_authentication(server: WebhookServer, rsb: Sandbox) -> None:
    base = f"{server.url}/webhook/{SECRET}"
    assert _post(base + "?triggerId=bad%20id%0A").status_code == 400
    assert _post(base, content=b"x" * (65 * 1024)).status_code == 413
    get = httpx.get(base, timeout=10)
    assert get.status_code == 405 and get.headers["Allow"] == "POST"
    assert httpx.get(f"{server.url}/webhook/wrong", timeout=10).status_code == 404
    assert server.trigger.health()["calls"]["started"] == 0
    assert rsb.submissions() == []


def test_health_shows_no_secret(server: WebhookServer, rsb: Sandbox) -> None:
    _post(f"{server.url}/webhook/{SECRET}?triggerId=t-1")
    assert server.trigger.wait_idle(90)
    body = httpx.get(f"{server.url}/health", timeout=10).text
    for secret in (SECRET, rsb.secret_key, rsb.public_id, "t-1"):
        assert secret not in body


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "set NUMERAI_WEBHOOK_SECRET"),
        ("short", "too short"),
        ("a" * 40 + "/?", "URL-safe"),
    ],
)
def test_serve_refuses_a_missing_or_weak_secret(
    rsb: Sandbox, tmp_path: Path, value: str | None, message: str
) -> None:
    settings = settings_for(rsb, tmp_path, webhook_secret=value)
    with pytest.raises(ConfigError, match=message):
        require_secret(settings)
