"""Fixtures every test area shares: a sandbox per test (cheap: its generated data is cached on
disk for the whole session), our API client pointed at it with short timeouts and instant
retries, and the session's trained model artifacts. Areas add their own fixtures in their own
conftest.py; helpers live in the ``support`` package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.sandbox import Sandbox
from support.sandbox import sandbox
from support.workshop import ArtifactCache


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-data")


@pytest.fixture
def sb(sandbox_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    with sandbox(sandbox_data, tmp_path / "sb") as box:
        yield box


@pytest.fixture
def api(sb: Sandbox) -> Iterator[NumeraiClient]:
    with NumeraiClient(
        sb.url, sb.public_id, sb.secret_key, timeout=2.0, retry_wait_initial=0.0
    ) as client:
        yield client


@pytest.fixture(scope="session")
def artifacts() -> ArtifactCache:
    """Model artifacts trained once per session (pass to ``Workshop``)."""
    return ArtifactCache()
