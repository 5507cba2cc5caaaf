"""The one backoff vocabulary: exponential, capped, jitter only shortening a wait, and an
instant switch that every retry loop (client, scheduler, deploy, pings) obeys."""

from __future__ import annotations

import random

import pytest

from numerai_autopilot import retry
from numerai_autopilot.client import RetryPolicy
from numerai_autopilot.clock import ManualClock
from numerai_autopilot.errors import TransientError
from numerai_autopilot.schedule import Backoff as RoundBackoff


def test_delays_grow_by_the_factor_up_to_the_cap() -> None:
    waits = retry.Backoff(first=1, factor=3, cap=20, jitter=0)
    assert [waits.delay(n) for n in (1, 2, 3, 4, 5)] == [1, 3, 9, 20, 20]


def test_jitter_only_takes_off_and_spreads_the_waits() -> None:
    waits = retry.Backoff(first=8, cap=8, jitter=0.25)
    rng = random.Random(7)
    drawn = [waits.delay(1, rng) for _ in range(200)]
    assert all(6.0 <= d <= 8.0 for d in drawn)
    assert max(drawn) - min(drawn) > 1.0  # really random, not a constant


def test_instant_makes_every_delay_zero_and_restores() -> None:
    waits = retry.Backoff(first=60, cap=600, jitter=0)
    with retry.instant():
        assert retry.is_instant()
        assert waits.delay(3) == 0.0
        assert RoundBackoff().delay(1) == 0.0
    assert not retry.is_instant()
    assert waits.delay(1) == 60


def test_client_policy_speaks_the_same_vocabulary() -> None:
    policy = RetryPolicy(attempts=5, wait_initial=2, wait_max=8)
    assert policy.waits == retry.Backoff(first=2, cap=8, jitter=0.5, attempts=5)
    assert all(1.0 <= policy.backoff(1, None) <= 2.0 for _ in range(50))
    assert policy.backoff(1, retry_after=30) == 30  # the server's Retry-After wins
    assert isinstance(RoundBackoff(), retry.Backoff)


def test_instant_client_retries_without_waiting_even_on_retry_after() -> None:
    clock = ManualClock(1000.0)
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise TransientError("503", retry_after=30)

    with retry.instant(), pytest.raises(TransientError, match="after 4 attempt"):
        RetryPolicy(attempts=4, deadline=10, clock=clock).call("x", failing)
    assert len(calls) == 4
    assert clock.sleeps == [0.0, 0.0, 0.0]
