"""The sandbox's round clock: numbering, windows and admin control, per tournament.

Numbering follows Numerai: one round per Tuesday-Saturday day, no skipped days, round 340 was
Tuesday 2022-10-25. Crypto counts its own rounds (the sandbox starts its count on
``CRYPTO_EPOCH``, an assumption: Numerai publishes no anchor). Two modes:

- ``"now"`` (default): a round is open from start-up whatever the weekday, so tests run any day;
  admin calls open and close rounds.
- ``"schedule"``: windows follow the real calendar, Tue-Fri 12:00-13:00 UTC and Saturday 12:00 to
  Sunday 14:00 UTC, until an admin call takes a tournament over by hand.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from ..clock import Clock, format_time
from ..tournaments import Tournament

CLASSIC_ANCHOR = (date(2022, 10, 25), 340)
CRYPTO_EPOCH = (date(2024, 7, 23), 1)
"""Day of Crypto's first sandbox round (a Tuesday). Numerai's real anchor is unpublished."""

OPEN_HOUR = 12
BetweenMode = Literal["last", "error", "null"]
ClockMode = Literal["now", "schedule"]


@dataclass(frozen=True)
class Round:
    """One round of one tournament; times are aware UTC datetimes."""

    tournament: int
    number: int
    open_time: datetime
    close_time: datetime
    close_staking_time: datetime

    def is_open(self, now: datetime) -> bool:
        """True when ``now`` lies in the submission window [open, closeStakingTime)."""
        return self.open_time <= now < self.close_staking_time

    def as_dict(self, now: datetime) -> dict[str, object]:
        """The public view used by the Python and admin APIs."""
        return {
            "tournament": self.tournament,
            "number": self.number,
            "openTime": format_time(self.open_time),
            "closeTime": format_time(self.close_time),
            "closeStakingTime": format_time(self.close_staking_time),
            "open": self.is_open(now),
        }


def _is_round_day(day: date) -> bool:
    return day.weekday() in (1, 2, 3, 4, 5)  # Tuesday..Saturday


def round_number_for_day(tournament: int, day: date) -> int:
    """The number of the round opening on ``day``; on Sunday/Monday, next Tuesday's round."""
    anchor_day, anchor_number = CRYPTO_EPOCH if tournament == Tournament.CRYPTO else CLASSIC_ANCHOR
    while not _is_round_day(day):
        day += timedelta(days=1)
    weeks, rest = divmod((day - anchor_day).days, 7)
    # ``rest`` counts days after the anchor Tuesday within its week: all are round days (Tue-Sat)
    # except Sunday (5) and Monday (6), which ``day`` never is.
    return anchor_number + weeks * 5 + rest


def day_of_round(tournament: int, number: int) -> date:
    """Inverse of :func:`round_number_for_day`: the Tue-Sat day round ``number`` opens."""
    anchor_day, anchor_number = CRYPTO_EPOCH if tournament == Tournament.CRYPTO else CLASSIC_ANCHOR
    weeks, rest = divmod(number - anchor_number, 5)
    return anchor_day + timedelta(days=weeks * 7 + rest)


def scheduled_round(tournament: int, number: int) -> Round:
    """Round ``number`` with Numerai's documented window (2026-04 docs)."""
    day = day_of_round(tournament, number)
    open_time = datetime.combine(day, time(OPEN_HOUR), UTC)
    length = timedelta(hours=26) if day.weekday() == 5 else timedelta(hours=1)
    return Round(tournament, number, open_time, open_time + length, open_time + length)


class RoundClock:
    """Current and past rounds of the three tournaments; thread-safe."""

    def __init__(
        self,
        clock: Clock,
        mode: ClockMode = "now",
        *,
        duration: float = 3600.0,
        opened_ago: float = 300.0,
    ) -> None:
        self.clock = clock
        self.mode: ClockMode = mode
        self.between: BetweenMode = "last"
        self._lock = threading.Lock()
        self._manual: dict[int, Round] = {}
        self._history: dict[int, dict[int, Round]] = {int(t): {} for t in Tournament}
        if mode == "now":
            now = clock.now()
            for t in Tournament:
                number = round_number_for_day(int(t), now.date())
                open_time = _whole(now - timedelta(seconds=opened_ago))
                self._set(
                    Round(int(t), number, open_time, *[open_time + timedelta(seconds=duration)] * 2)
                )

    def _set(self, rnd: Round) -> None:
        self._manual[rnd.tournament] = rnd
        self._history[rnd.tournament][rnd.number] = rnd

    def latest(self, tournament: int) -> Round:
        """The most recent round that has opened or is announced (it may be closed)."""
        with self._lock:
            manual = self._manual.get(tournament)
        if manual is not None:
            return manual
        now = self.clock.now()
        number = round_number_for_day(tournament, now.date())
        rnd = scheduled_round(tournament, number)
        if rnd.open_time > now:  # today's window has not opened yet: the previous round
            rnd = scheduled_round(tournament, number - 1)
        return rnd

    def current(self, tournament: int) -> Round | None:
        """The round open for submissions now, or None between rounds."""
        rnd = self.latest(tournament)
        return rnd if rnd.is_open(self.clock.now()) else None

    def get(self, tournament: int, number: int) -> Round:
        """Round ``number``: as it ran in the sandbox, else its scheduled window."""
        with self._lock:
            known = self._history[tournament].get(number)
        return known if known is not None else scheduled_round(tournament, number)

    def open_round(self, tournament: int, *, duration: float, open_in: float) -> Round:
        """Open the next round now (+``open_in`` s) for ``duration`` seconds."""
        now = self.clock.now()
        number = self.latest(tournament).number + 1
        open_time = _whole(now + timedelta(seconds=open_in))
        close = _whole(open_time + timedelta(seconds=duration))
        rnd = Round(tournament, number, open_time, close, close)
        with self._lock:
            self._set(rnd)
        return rnd

    def close_round(self, tournament: int) -> Round:
        """Close the latest round now (its closing times become now)."""
        now = _whole(self.clock.now())
        rnd = self.latest(tournament)
        closed = replace(
            rnd,
            close_time=min(rnd.close_time, now),
            close_staking_time=min(rnd.close_staking_time, now),
        )
        with self._lock:
            self._set(closed)
        return closed


def _whole(dt: datetime) -> datetime:
    """``dt`` to the whole second. The API publishes whole seconds (2026-07-18T12:00:00Z); a
    round kept at finer resolution would open up to a second after the time it reports, and a
    client waking at the reported open would be told its on-time submission is "queued"."""
    return dt.replace(microsecond=0)
