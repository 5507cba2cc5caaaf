"""One round's job, shared by the scheduler and the webhook: run, then retry what failed, with
backoff, until everything due is submitted, the attempts run out or the round's deadline nears.

Each attempt is a whole :meth:`Runner.run`: it asks the API what is still missing, so a retry
only ever submits models that have no submission yet (never a second one).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .. import retry
from ..clock import Clock, format_time
from ..errors import (
    AuthError,
    AutopilotError,
    ConfigError,
    DataError,
    LockedError,
    ModelError,
    NumeraiError,
    PredictionInvalidError,
    RoundClosedError,
    TransientError,
)
from ..run.report import RunReport

log = logging.getLogger(__name__)

RunFn = Callable[[str | None], RunReport]
"""Runs one pass with a trigger id (``Runner(settings).run(trigger_id=...)``)."""
AttemptHook = Callable[[int, RunReport | None, AutopilotError | None], None]


@dataclass(frozen=True)
class Backoff(retry.Backoff):
    """Bounds of the retries within a round: attempts AND the deadline, exponential delays
    (:class:`numerai_autopilot.retry.Backoff` with the round job's defaults, and ``margin``)."""

    first: float = 60.0
    """Seconds before the first retry."""
    cap: float = 600.0
    """Longest delay between two attempts."""
    jitter: float = 0.1
    """Up to this fraction taken off each delay, so that many hosts do not retry in step."""
    attempts: int = 6
    """Runs per round at most (the first and five retries)."""
    margin: float = 30.0
    """No retry starts closer than this to the deadline (it could not finish in time)."""


@dataclass
class JobResult:
    """What a round's job did: each attempt's report, and why it stopped."""

    reports: list[RunReport] = field(default_factory=list)
    gave_up: bool = False
    """True when models still failed and no retry was left (attempts or deadline)."""
    stopped: bool = False
    """True when asked to stop before the next attempt."""
    error: str | None = None
    """The last attempt's error when it raised instead of reporting (lock held, API down)."""
    error_class: str | None = None
    """That error's class, safe to show anyone (:func:`error_class`)."""

    @property
    def last(self) -> RunReport | None:
        return self.reports[-1] if self.reports else None

    @property
    def ok(self) -> bool:
        return self.last is not None and not self.last.failed and self.error is None


_CLASSES: tuple[tuple[type[AutopilotError], str], ...] = (
    (AuthError, "auth"),
    (ConfigError, "config"),
    (LockedError, "locked"),
    (TransientError, "api-unreachable"),
    (RoundClosedError, "round-closed"),
    (NumeraiError, "api-error"),
    (DataError, "data"),
    (ModelError, "model-failed"),
    (PredictionInvalidError, "model-failed"),
)


def error_class(exc: BaseException) -> str:
    """A word for what went wrong, safe to show anyone: no path, model name or message."""
    for cls, name in _CLASSES:
        if isinstance(exc, cls):
            return name
    return "error" if isinstance(exc, AutopilotError) else "internal"


def pause(clock: Clock, seconds: float, stop: threading.Event | None = None) -> bool:
    """Sleep ``seconds`` on ``clock`` in steps of at most a second; False if ``stop`` was set."""
    remaining = max(0.0, seconds)
    while remaining > 0:
        if stop is not None and stop.is_set():
            return False
        step = min(1.0, remaining)
        clock.sleep(step)
        remaining -= step
    return not (stop is not None and stop.is_set())


def _deadline(report: RunReport | None, known: datetime | None) -> datetime | None:
    """The earliest deadline among the rounds of the models that failed."""
    if report is None:
        return known
    dates = [
        d
        for o in report.failed
        if (r := report.rounds.get(o.tournament)) is not None and (d := r.deadline()) is not None
    ]
    return min(dates) if dates else known


def run_round(
    run: RunFn,
    clock: Clock,
    *,
    trigger_id: str | None = None,
    backoff: Backoff | None = None,
    deadline: datetime | None = None,
    stop: threading.Event | None = None,
    on_attempt: AttemptHook | None = None,
) -> JobResult:
    """Run until nothing due fails, retrying with ``backoff`` before the round's deadline.

    ``deadline`` bounds retries when an attempt raised before knowing its rounds. Settings and
    key errors (ConfigError, AuthError) are raised at once: waiting does not fix them."""
    policy = backoff or Backoff()
    result = JobResult()
    for attempt in range(1, policy.attempts + 1):
        report: RunReport | None = None
        error: AutopilotError | None = None
        try:
            report = run(trigger_id)
            result.reports.append(report)
            result.error = result.error_class = None
        except (ConfigError, AuthError):
            raise
        except AutopilotError as exc:  # the lock is held, the API is down: try again later
            error = exc
            result.error = str(exc)
            result.error_class = error_class(exc)
            log.warning("run attempt %d failed: %s", attempt, exc)
        if on_attempt is not None:
            on_attempt(attempt, report, error)
        if error is None and report is not None and not report.failed:
            return result
        if attempt == policy.attempts:
            log.error("giving up for this round: %d attempts made", attempt)
            break
        wait = policy.delay(attempt)
        until = _deadline(report, deadline)
        if until is not None and clock.now() + timedelta(seconds=wait + policy.margin) >= until:
            log.error(
                "giving up for this round: the deadline %s is too near for another attempt",
                format_time(until),
            )
            break
        names = ", ".join(o.name for o in report.failed) if report else "all"
        log.info("retrying in %.0f s (attempt %d failed: %s)", wait, attempt, names)
        if not pause(clock, wait, stop):
            result.stopped = True
            return result
    result.gave_up = True
    return result
