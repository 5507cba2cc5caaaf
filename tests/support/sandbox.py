"""The one way tests open a sandbox: tiny scale, seed 0, its generated data cached on disk
for the whole session (``cache_dir``), its state in the test's own directory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from numerai_autopilot.clock import Clock
from numerai_autopilot.sandbox import Sandbox

# Every sandbox opened through sandbox() during the current test (tests/conftest.py empties it
# around each test and holds what they received to Numerai's real schema).
OPENED: list[Sandbox] = []


@contextmanager
def sandbox(
    cache_dir: Path, state_dir: Path, *, time_source: Clock | None = None
) -> Iterator[Sandbox]:
    with Sandbox(
        scale="tiny", seed=0, state_dir=state_dir, cache_dir=cache_dir, time_source=time_source
    ) as box:
        OPENED.append(box)
        yield box


def round_number(sb: Sandbox, tournament: int = 8) -> int:
    """The number of the tournament's latest round (Classic by default)."""
    number = sb.current_round(tournament)["number"]
    assert isinstance(number, int), number
    return number
