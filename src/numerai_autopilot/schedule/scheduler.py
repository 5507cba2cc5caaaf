"""The foreground scheduler: wakes when a round opens, runs, retries until the close, sleeps.

Times come from the API, never from a table of hours: each look asks ``rounds(number: 0)`` of
every tournament in use. A round that is open and not yet handled starts a job
(:func:`run_round`); a round announced for later is slept towards; when nothing is known (Numerai
answers only the current round, and between rounds the last one, an error or null) the API is
asked again every ``poll`` seconds, one request per tournament.

Restarts are safe: the ledger in the state dir remembers which rounds are done, and a
round cut short by a restart simply runs again: the run submits only what the API says is
missing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..client import NumeraiClient, RoundInfo, client_from_settings
from ..clock import Clock, SystemClock, format_time
from ..compiled import prepare_in_background
from ..config import ModelsConfig, Settings, load_models_file
from ..errors import AuthError, AutopilotError, ConfigError, NumeraiError
from ..run.lifecycle import Lifecycle
from ..run.report import RunReport
from ..run.resident import Resident, for_settings, using
from ..tournaments import Tournament
from ._job import Backoff, JobResult, pause, run_round
from ._state import RoundRecord, ScheduleState
from ._wait import next_wait

log = logging.getLogger(__name__)


@dataclass
class ScheduleSummary:
    """What :meth:`Scheduler.run` did before it returned."""

    ticks: int = 0
    """Looks at the API."""
    runs: int = 0
    """Runs started (``Runner.run`` calls), first attempts and retries."""
    round_requests: int = 0
    """``rounds`` requests made to learn open and close times."""


class Scheduler:
    """Runs the models of ``settings`` every round, for as long as :meth:`run` is let run."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        client: NumeraiClient | None = None,
        poll: float = 300.0,
        once_per_round: bool = False,
        backoff: Backoff | None = None,
        max_sleep: float = 3600.0,
        lock_wait: float = 60.0,
        on_report: Callable[[RunReport], None] | None = None,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        if poll <= 0:
            raise ConfigError("--poll must be a positive number of seconds")
        self.settings = settings
        self.clock = clock or SystemClock()
        self.poll = poll
        self.once_per_round = once_per_round
        self.backoff = backoff or Backoff()
        self.max_sleep = max(max_sleep, poll)
        self.lock_wait = lock_wait
        self.on_report = on_report
        self.lifecycle = lifecycle or Lifecycle(settings, trigger="schedule")
        """Each run goes through it: alerts, healthcheck pings, ledger, as for ``run``."""
        self._client = client
        self._own_client = client is None
        self.state = ScheduleState.load(settings.state_path)
        self.summary = ScheduleSummary()
        self._stop = threading.Event()
        self._max_runs: int | None = None
        self._runs_stop = False  # _stop was set because max_runs was reached, not by stop()
        self._note = ""
        self._resident: Resident | None = None
        """Model libraries and models kept loaded between rounds (resident mode)."""

    @property
    def client(self) -> NumeraiClient:
        if self._client is None:
            # Retry waits and the server-skew check run on the scheduler's clock.
            self._client = client_from_settings(self.settings, clock=self.clock)
        return self._client

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._resident is not None:
            self._resident.close()
            self._resident = None

    @property
    def resident(self) -> Resident | None:
        """The resident server the runs fork their workers from (None: resident mode off)."""
        return self._resident

    def stop(self) -> None:
        """Ask :meth:`run` to return after the current step (thread-safe)."""
        self._stop.set()

    # -- the loop --------------------------------------------------------------------------

    def run(self, *, max_runs: int | None = None, max_ticks: int | None = None) -> ScheduleSummary:
        """Loop until stopped, ``max_runs`` runs were started or ``max_ticks`` looks were made.

        The models file and the key are checked once at start (a ConfigError/AuthError is
        raised); later, a broken models file is logged and looked at again each ``poll``."""
        load_models_file(self.settings.models_dir)
        self.settings.require_credentials()
        if self._resident is None:
            self._resident = for_settings(self.settings)
        if self._runs_stop:  # the last call's max_runs, not a stop(): this call runs anew
            self._runs_stop = False
            self._stop.clear()
        self._max_runs = max_runs
        while not self._stop.is_set():
            if max_ticks is not None and self.summary.ticks >= max_ticks:
                break
            if self._runs_exhausted():
                break
            wait = self.tick()
            if self._stop.is_set() or self._runs_exhausted():
                break
            if max_ticks is not None and self.summary.ticks >= max_ticks:
                break
            pause(self.clock, wait, self._stop)
        return self.summary

    def _runs_exhausted(self) -> bool:
        return self._max_runs is not None and self.summary.runs >= self._max_runs

    def tick(self) -> float:
        """One look: learn the rounds, run what is due; returns the seconds to sleep next."""
        self.summary.ticks += 1
        try:
            models = load_models_file(self.settings.models_dir)
        except ConfigError as exc:
            log.error("%s (looking again in %.0f s)", exc, self.poll)
            return self.poll
        if self._resident is not None:  # a model gone from the file is not kept loaded
            self._resident.retain({m.name for m in models.enabled()})
        tournaments = sorted({m.tournament for m in models.enabled()})
        if not tournaments:
            self._tell(f"no enabled model in {models.path}: nothing to schedule")
            return self.poll
        try:
            rounds = self._rounds(tournaments)
        except AuthError:
            raise
        except NumeraiError as exc:
            log.warning("cannot learn the rounds (%s): asking again in %.0f s", exc, self.poll)
            return self.poll
        now = self.clock.now()
        due = {t: r for t, r in rounds.items() if r is not None and self._due(t, r, now)}
        if due:
            self._job(models, due)
            # Between rounds: compile what the next round can use (never waited for).
            prepare_in_background(self.settings, models.enabled())
        elif not self.once_per_round:
            done = {
                t: r
                for t, r in rounds.items()
                if r is not None and r.is_open(now) and self._status(t, r) == "done"
            }
            if done and self._something_pending(models):
                self._job(models, done)
        return self._next_wait(rounds)

    # -- steps -----------------------------------------------------------------------------

    def _rounds(self, tournaments: list[Tournament]) -> dict[Tournament, RoundInfo | None]:
        out: dict[Tournament, RoundInfo | None] = {}
        for t in tournaments:
            self.summary.round_requests += 1
            out[t] = self.client.current_round(t)
        return out

    def _status(self, t: Tournament, r: RoundInfo) -> str | None:
        rec = self.state.get(t, r.number)
        return rec.status if rec is not None else None

    def _due(self, t: Tournament, r: RoundInfo, now: datetime) -> bool:
        return r.is_open(now) and self._status(t, r) in (None, "running")

    def _something_pending(self, models: ModelsConfig) -> bool:
        """A re-check of a handled round (one API request): has anything become due since,
        e.g. a model added to the models file?"""
        from ..run.runner import Runner

        runner = Runner(self.settings, client=self.client, clock=self.clock, models=models)
        try:
            pending = runner.plan().pending
        except (ConfigError, AuthError):
            raise
        except AutopilotError as exc:
            log.warning("re-check failed (%s): trying again in %.0f s", exc, self.poll)
            return False
        if pending:
            log.info("now due in an open round: %s", ", ".join(m.name for m in pending))
        return bool(pending)

    def _job(self, models: ModelsConfig, rounds: dict[Tournament, RoundInfo]) -> JobResult:
        for t, r in rounds.items():
            log.info(
                "%s round %d is open until %s: running",
                t.label,
                r.number,
                format_time(d) if (d := r.deadline()) else "(no deadline)",
            )
        used = max(
            (rec.attempts for t, r in rounds.items() if (rec := self.state.get(t, r.number))),
            default=0,
        )
        policy = dataclasses.replace(self.backoff, attempts=max(1, self.backoff.attempts - used))
        deadlines = [d for r in rounds.values() if (d := r.deadline()) is not None]

        def run(trigger_id: str | None) -> RunReport:
            # Count the attempt before it starts, so that a crash loop also uses up attempts.
            for t, r in rounds.items():
                rec = self.state.get(t, r.number) or RoundRecord(r.number, "running")
                rec.attempts += 1
                rec.status, rec.updated = "running", format_time(self.clock.now())
                self.state.set(t, rec)
            self.state.save()
            self.summary.runs += 1
            with using(self._resident):
                result = self.lifecycle.run(
                    trigger_id=trigger_id,
                    lock_wait=self.lock_wait,
                    client=self.client,
                    clock=self.clock,
                    models=models,
                )
            return result.unwrap()  # an error: run_round retries later, or stops (settings, key)

        def after(attempt: int, report: RunReport | None, error: AutopilotError | None) -> None:
            for t, r in rounds.items():
                rec = self.state.get(t, r.number)
                if rec is None:
                    continue
                failed = (
                    error is not None
                    or report is None
                    or any(o.tournament == t for o in report.failed)
                )
                rec.status = "running" if failed else "done"
            # The run itself (id, exit code, summary, error) is in the ledger's runs.
            self.state.save()
            if report is not None and self.on_report is not None:
                self.on_report(report)
            if self._runs_exhausted():
                self._runs_stop = True
                self._stop.set()

        result = run_round(
            run,
            self.clock,
            backoff=policy,
            deadline=min(deadlines) if deadlines else None,
            stop=self._stop,
            on_attempt=after,
        )
        if result.gave_up and not self._stop.is_set():
            for t, r in rounds.items():
                rec = self.state.get(t, r.number)
                if rec is not None and rec.status == "running":
                    rec.status = "gave-up"
            self.state.save()
        return result

    def _next_wait(self, rounds: dict[Tournament, RoundInfo | None]) -> float:
        wait, notes = next_wait(
            rounds,
            self.clock.now(),
            self._status,
            poll=self.poll,
            max_sleep=self.max_sleep,
            once_per_round=self.once_per_round,
        )
        self._tell("; ".join(notes), f" (next look in {wait:.0f} s)")
        return wait

    def _tell(self, note: str, detail: str = "") -> None:
        """Log at info when the situation changed, at debug when it is the same as before."""
        log.log(logging.INFO if note != self._note else logging.DEBUG, "%s%s", note, detail)
        self._note = note
