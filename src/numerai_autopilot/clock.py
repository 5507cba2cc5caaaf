"""The clock seam: production uses the system clock, tests and the sandbox may shift it."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""
        ...

    def sleep(self, seconds: float) -> None: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def monotonic(self) -> float:
        return time.monotonic()


def parse_time(value: str | None) -> datetime | None:
    """Parse Numerai's ISO-8601 times; a naive time (seen in shape drift) is taken as UTC."""
    if value is None or value == "":
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_http_date(value: str | None) -> datetime | None:
    """Parse an HTTP date (``Date``, ``Retry-After``: ``Tue, 18 Jul 2026 12:00:00 GMT``) as
    aware UTC; None when absent or unreadable (a header is the server's word, not our input)."""
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def format_time(dt: datetime) -> str:
    """Format an aware datetime as Numerai does: ``2026-07-18T12:00:00Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ManualClock:
    """A clock that moves only when slept, set or advanced: retries, deadlines and schedules
    become instant and observable in tests (ours, and users' tests against the sandbox).

    ``t`` is the time in seconds since the epoch, also what ``monotonic`` returns; ``sleeps``
    records every sleep asked for."""

    def __init__(self, start: datetime | float = 0.0) -> None:
        self.t = start.timestamp() if isinstance(start, datetime) else float(start)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def monotonic(self) -> float:
        return self.t

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (an aware datetime)."""
        self.t = when.timestamp()

    def advance(self, seconds: float) -> None:
        """Move on by ``seconds`` without recording a sleep."""
        self.t += seconds
