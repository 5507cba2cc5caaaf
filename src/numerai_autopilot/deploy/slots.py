"""The recommended trigger slots: when a scheduler should start ``numerai-autopilot run``.

Numerai opens a round Tuesday to Saturday; it promises only that a round opens no earlier than
12:00 UTC and stays open at least an hour (2026-04 docs: Tue-Fri 12:00-13:00, Saturday 12:00 to
Sunday 14:00; earlier docs said 13:00-14:00). The exact times come from the API at run time and
are never hard-coded into the run itself. A scheduler only needs to wake the run a few times in
the usual window: each run is idempotent (it submits only what is missing) and costs one API
request when nothing is due (measured 0.5 s, 1 request), so extra slots are nearly free while a
missed slot costs a round.

The defaults: four slots an hour (minute 2, 17, 32, 47: two minutes after the open, so the
round's data is published) from 12:00 to 14:59 UTC, Tuesday to Saturday, plus Sunday for the
Saturday round that closes on Sunday. Twelve slots a day, 72 a week.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

# Exit codes of `run` a scheduler must not count as failures (cli/app.py): 3 = no round is open,
# 4 = another run holds the lock (the previous slot is still running).
BENIGN_EXIT_CODES = (3, 4)

_DAY_NAMES = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")  # cron numbering: 0 = Sunday


@dataclass(frozen=True)
class Slots:
    """Minutes past the hour, an inclusive hour range (UTC) and weekdays (cron numbering)."""

    minutes: tuple[int, ...] = (2, 17, 32, 47)
    first_hour: int = 12
    last_hour: int = 14
    weekdays: tuple[int, ...] = (2, 3, 4, 5, 6, 0)  # Tue..Sat, and Sunday for Saturday's round

    def __post_init__(self) -> None:
        if not self.minutes or not all(0 <= m <= 59 for m in self.minutes):
            raise ConfigError(f"slot minutes must be 0..59, got {self.minutes}")
        if not 0 <= self.first_hour <= self.last_hour <= 23:
            raise ConfigError(
                f"slot hours must satisfy 0 <= first <= last <= 23, got "
                f"{self.first_hour}..{self.last_hour}"
            )
        if not self.weekdays or not all(0 <= d <= 6 for d in self.weekdays):
            raise ConfigError(f"slot weekdays must be 0..6 (0 = Sunday), got {self.weekdays}")

    @property
    def per_week(self) -> int:
        """How many times a week the scheduler starts a run."""
        hours = self.last_hour - self.first_hour + 1
        return len(set(self.minutes)) * hours * len(set(self.weekdays))

    def cron(self) -> str:
        """A five-field cron expression (UTC where the platform allows a time zone)."""
        minutes = ",".join(str(m) for m in sorted(set(self.minutes)))
        hours = (
            str(self.first_hour)
            if self.first_hour == self.last_hour
            else f"{self.first_hour}-{self.last_hour}"
        )
        # Days in week order starting Monday, so "2,3,4,5,6,0" reads Tue..Sat then Sunday.
        days = ",".join(str(d) for d in sorted(set(self.weekdays), key=lambda d: (d + 6) % 7))
        return f"{minutes} {hours} * * {days}"

    def on_calendar(self) -> str:
        """The same slots as a systemd ``OnCalendar=`` expression, pinned to UTC."""
        days = sorted(set(self.weekdays), key=lambda d: (d + 6) % 7)
        names = ",".join(_DAY_NAMES[d] for d in days)
        if len(days) > 1 and _contiguous([(d + 6) % 7 for d in days]):
            names = f"{_DAY_NAMES[days[0]]}..{_DAY_NAMES[days[-1]]}"
        minutes = ",".join(f"{m:02d}" for m in sorted(set(self.minutes)))
        hours = (
            f"{self.first_hour:02d}"
            if self.first_hour == self.last_hour
            else f"{self.first_hour:02d}..{self.last_hour:02d}"
        )
        return f"{names} *-*-* {hours}:{minutes}:00 UTC"


def _contiguous(values: list[int]) -> bool:
    return values == list(range(values[0], values[0] + len(values)))


RECOMMENDED = Slots()
