"""A clock for schedule tests: real time plus an offset that ``sleep`` moves on at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class JumpClock:
    """Real time plus an offset; ``sleep`` moves the offset on at once (thread-safe).

    Shared by the sandbox (``time_source``) and the scheduler, it lets a test live through
    hours of a schedule in a second, while runs still take their real time."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + timedelta(seconds=offset)

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self._offset += max(0.0, seconds)
            self.sleeps.append(seconds)

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    @property
    def slept(self) -> float:
        with self._lock:
            return sum(self.sleeps)
