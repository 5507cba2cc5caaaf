from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from schedule_support import JumpClock

from numerai_autopilot.sandbox import Sandbox


@pytest.fixture
def jump() -> JumpClock:
    return JumpClock()


@pytest.fixture(scope="session")
def sched_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sandbox's generated data, made once for the session."""
    return tmp_path_factory.mktemp("sched-sandbox-data")


@pytest.fixture
def jsb(jump: JumpClock, sched_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox living on the jump clock."""
    with Sandbox(
        scale="tiny", seed=0, state_dir=tmp_path / "sb", cache_dir=sched_data, time_source=jump
    ) as box:
        yield box


@pytest.fixture
def rsb(sched_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox on the real clock (its round opened at start-up, open for an hour)."""
    with Sandbox(scale="tiny", seed=0, state_dir=tmp_path / "sb", cache_dir=sched_data) as box:
        yield box
