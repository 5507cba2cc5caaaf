"""One backoff vocabulary for every retry here: the client's calls (``RetryPolicy``), the
scheduler's round job (``schedule.Backoff``), the Azure set-up's steps and healthcheck pings.

A delay grows from ``first`` by ``factor`` up to ``cap``; jitter takes a random fraction (up to
``jitter``) off it, never adds one, so ``cap`` really is the longest wait and deadline checks
made with it stay safe. :func:`instant` makes every delay zero, for tests (stamina's switch).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Backoff", "instant", "is_instant", "set_instant"]

_instant = False


@dataclass(frozen=True)
class Backoff:
    """Exponential waits between ``attempts`` tries (the first try included)."""

    first: float = 0.5
    """Seconds before the first retry (before jitter)."""
    factor: float = 2.0
    cap: float = 15.0
    """Longest wait between two tries."""
    jitter: float = 0.5
    """Up to this fraction is taken off each wait at random, so that clients do not retry in
    step (0: exact waits)."""
    attempts: int = 4

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempt``-th failed try (1-based); 0 when instant."""
        if _instant:
            return 0.0
        base = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        # Jitter spreads simultaneous clients apart; not security relevant.
        spread = (rng or random).random() * self.jitter
        return max(0.0, base * (1.0 - spread))


def set_instant(on: bool) -> None:
    """Make every :meth:`Backoff.delay` zero (True) or real again (False), process-wide."""
    global _instant  # noqa: PLW0603 - a process-wide test switch, like stamina's
    _instant = on


def is_instant() -> bool:
    return _instant


@contextmanager
def instant() -> Iterator[None]:
    """Within the block, every backoff delay is zero; the previous setting is restored."""
    saved = _instant
    set_instant(True)
    try:
        yield
    finally:
        set_instant(saved)
