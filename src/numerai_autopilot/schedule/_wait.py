"""When the scheduler looks at the API again: from each tournament's round and what was done
with it, the seconds to sleep and a note saying what it is waiting for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from ..client import RoundInfo
from ..clock import format_time
from ..tournaments import Tournament

MIN_SLEEP = 1.0
"""Least time between two looks at the API, whatever the clock says."""

Status = Callable[[Tournament, RoundInfo], str | None]
"""A round's status in the scheduler's record (None: not handled yet)."""


def next_wait(
    rounds: Mapping[Tournament, RoundInfo | None],
    now: datetime,
    status: Status,
    *,
    poll: float,
    max_sleep: float,
    once_per_round: bool,
) -> tuple[float, list[str]]:
    """Seconds until the next look (between ``MIN_SLEEP`` and ``max_sleep``), and one note
    per tournament that is waiting for something."""
    waits: list[float] = []
    notes: list[str] = []
    for t, r in rounds.items():
        if r is None or (not r.is_open(now) and r.open_time <= now):
            waits.append(poll)
            notes.append(f"{t.label}: next round not announced yet")
        elif r.open_time > now:
            waits.append((r.open_time - now).total_seconds())
            notes.append(f"{t.label}: round {r.number} opens at {format_time(r.open_time)}")
        elif status(t, r) in (None, "running"):
            waits.append(0.0)  # cut short (stop): due at the next look
        elif status(t, r) == "done" and not once_per_round:
            waits.append(poll)
            notes.append(f"{t.label}: round {r.number} handled; re-checking until it closes")
        else:
            deadline = r.deadline()
            waits.append((deadline - now).total_seconds() if deadline else poll)
            notes.append(f"{t.label}: round {r.number} handled; waiting for it to close")
    return min(max_sleep, max(MIN_SLEEP, min(waits, default=poll))), notes
