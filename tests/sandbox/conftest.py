"""Fixtures: a sandbox per test (cheap: data is cached on disk for the session) and numerapi
pointed at it through its module-level endpoint, restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numerapi
import numerapi.base_api
import pytest

from numerai_autopilot.sandbox import Sandbox


@pytest.fixture
def endpoint(sb: Sandbox) -> Iterator[str]:
    """numerapi's module-level endpoint pointed at the sandbox for the test's duration."""
    saved = numerapi.base_api.API_TOURNAMENT_URL
    numerapi.base_api.API_TOURNAMENT_URL = sb.url
    try:
        yield sb.url
    finally:
        numerapi.base_api.API_TOURNAMENT_URL = saved


@pytest.fixture
def napi(sb: Sandbox, endpoint: str) -> numerapi.NumerAPI:
    return numerapi.NumerAPI(sb.public_id, sb.secret_key, show_progress_bars=False)


@pytest.fixture
def client(sb: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.url, timeout=10) as c:
        yield c
