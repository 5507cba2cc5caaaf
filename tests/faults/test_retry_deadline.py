"""Retry bounds follow the round's close: no wait ends past ``stop_at``, and the data cache's
longer download bounds inherit it (issue 4: deadline awareness, unit level)."""

from __future__ import annotations

from pathlib import Path

import pytest

from numerai_autopilot.client import NumeraiClient, RetryPolicy
from numerai_autopilot.clock import ManualClock
from numerai_autopilot.data import DataCache
from numerai_autopilot.errors import TransientError


def _always(exc: Exception) -> object:
    raise exc


def test_no_retry_wait_ends_after_stop_at() -> None:
    clock = ManualClock(1000.0)
    policy = RetryPolicy(
        attempts=10, deadline=3600, wait_initial=1, wait_max=4, clock=clock, stop_at=1006.0
    )
    with pytest.raises(TransientError, match="the round closes soon"):
        policy.call("x", lambda: _always(TransientError("503")))
    assert clock.t <= 1006.0
    assert len(clock.sleeps) >= 2  # it did retry while there was time


def test_retry_after_beyond_the_close_gives_up_at_once() -> None:
    clock = ManualClock(1000.0)
    policy = RetryPolicy(clock=clock, stop_at=1010.0)
    with pytest.raises(TransientError, match="closes soon"):
        policy.call("x", lambda: _always(TransientError("429", retry_after=30)))
    assert clock.sleeps == []


def test_client_bound_reaches_uploads_and_the_data_cache(tmp_path: Path) -> None:
    client = NumeraiClient(
        "http://127.0.0.1:9/", "PUBLICID", "SECRETKEY", clock=ManualClock(1000.0)
    )
    client.retry_until(1234.0)
    assert client.retry_policy.stop_at == 1234.0
    assert client._uploader.retry.stop_at == 1234.0
    cache = DataCache(tmp_path, client)
    assert cache._retry.stop_at == 1234.0 and cache._retry.attempts >= 6
    client.retry_until(None)
    assert client.retry_policy.stop_at is None
    client.close()
