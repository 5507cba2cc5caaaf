"""Bounded retries of transient failures: attempts AND a deadline, exponential backoff, jitter
(the waits are :class:`numerai_autopilot.retry.Backoff`, the project's one backoff).

A small explicit loop rather than a decorator so that the clock is a seam (tests pass a fake one
and retries become instant) and so that ``Retry-After`` and the deadline are honoured exactly: we
never start a wait that would end past the deadline, we give up at once and say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..clock import Clock, SystemClock
from ..errors import TransientError
from ..retry import Backoff, is_instant

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Retry :class:`TransientError` up to ``attempts`` tries within ``deadline`` seconds, and
    never start a wait that ends after ``stop_at`` (a ``clock.monotonic()`` instant: the round's
    close minus the time the run needs to report), whichever comes first."""

    attempts: int = 4
    deadline: float = 120.0
    wait_initial: float = 0.5
    wait_max: float = 15.0
    clock: Clock = field(default_factory=SystemClock)
    stop_at: float | None = None

    @property
    def waits(self) -> Backoff:
        """The waits between tries: doubling from ``wait_initial`` to ``wait_max``, jitter
        taking up to half off."""
        return Backoff(
            first=self.wait_initial, cap=self.wait_max, jitter=0.5, attempts=self.attempts
        )

    def backoff(self, failures: int, retry_after: float | None) -> float:
        """Seconds to wait after the ``failures``-th failure: :attr:`waits`, but at least the
        server's ``Retry-After`` (unless :func:`numerai_autopilot.retry.instant`)."""
        wait = self.waits.delay(failures)
        if retry_after is not None and not is_instant():
            wait = max(wait, retry_after)
        return wait

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``; on TransientError wait and try again while attempts and time remain.
        The last TransientError is re-raised, its message saying how long we tried."""
        start = self.clock.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except TransientError as exc:
                now = self.clock.monotonic()
                elapsed = now - start
                wait = self.backoff(attempt, exc.retry_after)
                closing = self.stop_at is not None and now + wait > self.stop_at
                if attempt >= self.attempts or elapsed + wait > self.deadline or closing:
                    if attempt == 1 and self.attempts <= 1:
                        raise
                    why = "; the round closes soon" if closing else ""
                    raise TransientError(
                        f"{exc} (gave up on {what} after {attempt} attempt(s) in "
                        f"{elapsed:.1f}s{why})",
                        retry_after=exc.retry_after,
                    ) from exc
                log.warning(
                    "%s failed (%s); retry %d of %d in %.1fs",
                    what,
                    exc,
                    attempt,
                    self.attempts - 1,
                    wait,
                )
                self.clock.sleep(wait)
