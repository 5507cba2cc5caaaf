"""A sandbox per test (its data cached on disk for the session), a client pointed at it with
short timeouts and instant retries, and a data cache on that client."""

from __future__ import annotations

from pathlib import Path

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.data import DataCache


@pytest.fixture
def cache(tmp_path: Path, api: NumeraiClient) -> DataCache:
    return DataCache(tmp_path / "cache", api)
