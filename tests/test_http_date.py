"""One HTTP-date parser, for the server's Date (clock skew) and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

from numerai_autopilot.client._classify import retry_after_seconds
from numerai_autopilot.clock import parse_http_date

NOON = datetime(2026, 7, 18, 12, 0, tzinfo=UTC)


def test_http_dates_parse_as_aware_utc() -> None:
    assert parse_http_date("Sat, 18 Jul 2026 12:00:00 GMT") == NOON
    assert parse_http_date(" Sat, 18 Jul 2026 14:00:00 +0200 ") == NOON
    # "-0000" means "zone unknown": email.utils gives a naive time, taken as UTC.
    assert parse_http_date("Sat, 18 Jul 2026 12:00:00 -0000") == NOON


def test_absent_or_unreadable_dates_are_none() -> None:
    assert [parse_http_date(v) for v in (None, "", "soon", "Sat, 99 Jul 2026")] == [None] * 4


def test_retry_after_reads_the_same_dates() -> None:
    assert retry_after_seconds("Sat, 18 Jul 2026 12:00:30 GMT", now=NOON) == 30.0
    assert retry_after_seconds("Sat, 18 Jul 2026 11:00:00 GMT", now=NOON) == 0.0
    assert retry_after_seconds("garbage", now=NOON) is None
