"""Fixtures of the scheduling tests: a jump clock, and sandboxes on it or on the real clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot.sandbox import Sandbox
from support.clocks import JumpClock
from support.sandbox import sandbox


@pytest.fixture
def jump() -> JumpClock:
    return JumpClock()


@pytest.fixture(scope="session")
def sched_data(sandbox_data: Path) -> Path:
    """The sandbox's generated data, made once for the session (shared with ``sb``)."""
    return sandbox_data


@pytest.fixture
def jsb(jump: JumpClock, sched_data: Path, tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox living on the jump clock."""
    with sandbox(sched_data, tmp_path / "sb", time_source=jump) as box:
        yield box


@pytest.fixture
def rsb(sb: Sandbox) -> Sandbox:
    """A sandbox on the real clock (its round opened at start-up, open for an hour)."""
    return sb
