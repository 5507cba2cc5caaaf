"""Fixtures: a sandbox per test (cheap: data is cached on disk for the session) and numerapi
pointed at it through its module-level endpoint, restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import numerapi
import numerapi.base_api
import pytest

from numerai_autopilot.sandbox import Sandbox


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-data")


@pytest.fixture
def sb(data_cache: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(scale="tiny", seed=0, state_dir=tmp_path / "state", cache_dir=data_cache) as box:
        yield box


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
