"""A sandbox per test (its data cached on disk for the session), a client pointed at it with
short timeouts and instant retries, and a data cache on that client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.data import DataCache
from numerai_autopilot.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-data")


@pytest.fixture
def sb(sandbox_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(scale="tiny", seed=0, state_dir=tmp_path / "sb", cache_dir=sandbox_data) as box:
        yield box


@pytest.fixture
def api(sb: Sandbox) -> Iterator[NumeraiClient]:
    with NumeraiClient(
        sb.url, sb.public_id, sb.secret_key, timeout=2.0, retry_wait_initial=0.0
    ) as client:
        yield client


@pytest.fixture
def cache(tmp_path: Path, api: NumeraiClient) -> DataCache:
    return DataCache(tmp_path / "cache", api)
