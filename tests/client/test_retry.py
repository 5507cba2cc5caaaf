"""The retry loop: only TransientError, bounded by attempts and by the deadline."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from numerai_autopilot.client import RetryPolicy
from numerai_autopilot.clock import ManualClock
from numerai_autopilot.errors import ApiError, TransientError


def failing(times: int, exc: Exception, calls: list[int]) -> Callable[[], str]:
    def fn() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise exc
        return "ok"

    return fn


def test_transient_failures_are_retried_with_growing_jittered_waits() -> None:
    clock = ManualClock()
    calls: list[int] = []
    policy = RetryPolicy(attempts=4, deadline=100, wait_initial=1, wait_max=10, clock=clock)
    assert policy.call("x", failing(3, TransientError("503"), calls)) == "ok"
    assert len(calls) == 4
    assert len(clock.sleeps) == 3
    for i, wait in enumerate(clock.sleeps):
        assert 0.5 * 2**i <= wait <= 2**i


def test_permanent_errors_are_not_retried() -> None:
    clock = ManualClock()
    calls: list[int] = []
    with pytest.raises(ApiError):
        RetryPolicy(clock=clock).call("x", failing(5, ApiError("no"), calls))
    assert len(calls) == 1
    assert clock.sleeps == []


def test_attempts_bound_the_retries_and_the_message_says_so() -> None:
    clock = ManualClock()
    calls: list[int] = []
    policy = RetryPolicy(attempts=3, deadline=1000, wait_initial=0.1, clock=clock)
    with pytest.raises(TransientError, match=r"gave up on x after 3 attempt"):
        policy.call("x", failing(99, TransientError("503"), calls))
    assert len(calls) == 3


def test_no_wait_is_started_that_would_end_past_the_deadline() -> None:
    clock = ManualClock()
    calls: list[int] = []
    policy = RetryPolicy(attempts=100, deadline=10, wait_initial=4, wait_max=4, clock=clock)
    with pytest.raises(TransientError):
        policy.call("x", failing(99, TransientError("503"), calls))
    assert clock.t <= 10
    assert sum(clock.sleeps) <= 10


def test_retry_after_is_honoured_but_not_past_the_deadline() -> None:
    clock = ManualClock()
    calls: list[int] = []
    policy = RetryPolicy(attempts=5, deadline=60, wait_initial=0.1, clock=clock)
    assert policy.call("x", failing(1, TransientError("429", retry_after=7), calls)) == "ok"
    assert clock.sleeps == [7]
    calls.clear()
    with pytest.raises(TransientError):
        policy.call("x", failing(1, TransientError("429", retry_after=600), calls))
    assert len(calls) == 1
