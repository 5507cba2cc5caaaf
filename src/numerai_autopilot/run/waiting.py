"""Waiting for a round to open, through the clock seam (``run --wait-open``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from ..client import NumeraiClient, take_snapshot
from ..clock import Clock
from ..tournaments import Tournament

log = logging.getLogger(__name__)


def wait_for_open(  # noqa: PLR0917 - the Runner's one caller passes its own resources
    client: NumeraiClient,
    clock: Clock,
    now: Callable[[], datetime],
    tournaments: Sequence[Tournament],
    duration: float,
    poll: float,
) -> bool:
    """True once every one of ``tournaments`` has an open round, False after ``duration``
    seconds. Wakes at an announced open time, else every ``poll`` seconds (one request each)."""
    end = clock.monotonic() + max(0.0, duration)
    for _ in range(int(duration / 0.2) + 2):  # each pass sleeps >= 0.2 s or returns
        rounds = take_snapshot(client, tournaments).rounds
        at = now()
        closed = {t: r for t, r in rounds.items() if r is None or not r.is_open(at)}
        left = end - clock.monotonic()
        if not closed:
            return True
        if left <= 0:
            break
        known = [(r.open_time - at).total_seconds() for r in closed.values() if r]
        soonest = min((k for k in known if k > 0), default=poll)
        nap = max(0.2, min(left, poll, soonest + 0.2))
        log.info(
            "no round open yet in %s: waiting %.1fs (at most %.0fs more)",
            ", ".join(t.label for t in closed),
            nap,
            left,
        )
        clock.sleep(nap)
    log.warning("waited %.0fs and no round opened in every tournament", duration)
    return False
