"""The run: one pass that submits exactly what is missing, safe to repeat at any time.

resolve rounds and status (one API request) -> plan -> download each needed file once ->
load each once (column projection) -> predict in isolated workers -> validate -> upload and
confirm -> record in the ledger -> report. One model's failure never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from .. import logctx
from ..client import NumeraiClient, client_from_settings, take_snapshot
from ..clock import Clock, SystemClock
from ..config import ModelsConfig, ModelSpec, Settings, load_models_file
from ..errors import ConfigError, exit_code_for
from .context import LATE_POLICIES, EventHook, LatePolicy, RunContext, Timer
from .ledger import Ledger
from .lock import run_lock
from .plan import Plan, make_plan
from .report import Outcome, RunReport, initial_outcome, interrupt, record
from .select import all_to_predict, select
from .shard import share
from .waiting import wait_for_open

if TYPE_CHECKING:
    from ..glance import Glance

log = logging.getLogger(__name__)

__all__ = ["LATE_POLICIES", "EventHook", "LatePolicy", "Runner"]

SKEW_TOLERANCE = 5.0
"""Seconds of disagreement with the server's clock ignored (its Date has 1 s resolution)."""
REPORT_MARGIN = 60.0
"""Seconds before a round's close after which no retry wait starts: time left to report."""


class Runner:
    """Runs, plans and checks the models of one models dir against one Numerai account."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: NumeraiClient | None = None,
        clock: Clock | None = None,
        models: ModelsConfig | None = None,
        report_margin: float = REPORT_MARGIN,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.all_models = models or load_models_file(settings.models_dir)
        self.models = share(self.all_models, settings.shard)
        """The entries this run looks at: all of them, or its shard's share (``--shard``)."""
        self.report_margin = report_margin
        self._client = client
        self._own_client = client is None
        self._skew_warned = False
        self._ctx: RunContext | None = None
        self.run_id: str | None = None
        """The ledger id of the run once :meth:`run` has started its row (errors before: none)."""
        """The current run's context (for an interrupt to know what it stopped)."""

    # -- resources -------------------------------------------------------------------------

    @property
    def client(self) -> NumeraiClient:
        if self._client is None:
            self._client = client_from_settings(self.settings, clock=self.clock)
        return self._client

    def now(self) -> datetime:
        """Our best idea of Numerai's time: the local clock, corrected by the server's ``Date``
        when the two disagree by more than :data:`SKEW_TOLERANCE` (the server decides whether a
        round is open, so its clock wins)."""
        now = self.clock.now()
        offset = self._client.server_offset if self._client is not None else None
        if offset is None or abs(offset) <= SKEW_TOLERANCE:
            return now
        if not self._skew_warned:
            self._skew_warned = True
            log.warning(
                "this machine's clock is %.0fs %s the API server's: using the server's time "
                "for round windows (fix the clock: enable NTP)",
                abs(offset),
                "behind" if offset > 0 else "ahead of",
            )
        return now + timedelta(seconds=offset)

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lock(self, wait: float = 0.0) -> AbstractContextManager[None]:
        """Hold the state dir's run lock, so two runs never both upload."""
        return run_lock(self.settings.state_path, wait)

    # -- plan ------------------------------------------------------------------------------

    def plan(
        self,
        specs: Sequence[ModelSpec] | None = None,
        *,
        late: LatePolicy = "skip",
        check: bool = True,
    ) -> Plan:
        """Steps 1-3 without uploads: rounds, status, and what is due. With ``late`` =
        ``submit``, a round that has opened and closed still takes submissions (as late).

        ``check`` (the default) also looks, cheaply, for what would fail a due model (see
        :mod:`.checks`): each entry's ``problem``, all of them in ``Plan.problems``."""
        p = self._plan(specs, late)
        if not check or not p.to_predict:
            return p
        from .checks import check_plan  # imports the model and data helpers: only when due

        return check_plan(p, self.client, self.settings.state_path / "cache")

    def _plan(self, specs: Sequence[ModelSpec] | None, late: LatePolicy) -> Plan:
        specs = list(specs if specs is not None else self.models.models)
        tournaments = {s.tournament for s in specs if s.enabled}
        status = take_snapshot(self.client, sorted(tournaments))
        now = self.now()
        now_open = {
            t: r is not None and (r.is_open(now) or (late == "submit" and now >= r.open_time))
            for t, r in status.rounds.items()
        }
        return make_plan(specs, status.models, status.rounds, status.latest, now_open)

    def wait_for_open(
        self, specs: Sequence[ModelSpec] | None, duration: float, *, poll: float = 30.0
    ) -> bool:
        """Wait, at most ``duration`` seconds (sleeping through the clock seam), until every
        tournament the enabled models use has an open round; True when they all have. Wakes at
        an announced open time, else every ``poll`` seconds (one API request each)."""
        specs = list(specs if specs is not None else self.models.models)
        tournaments = sorted({s.tournament for s in specs if s.enabled})
        return wait_for_open(self.client, self.clock, self.now, tournaments, duration, poll)

    def status(self, rounds: int = 10) -> Glance:
        """Every model's last ``rounds`` rounds (the API's submissions merged with the ledger)
        and each configured model's state this round."""
        from ..glance import look

        return look(self.client, self.models.models, self.settings.state_path, self.now(), rounds)

    # -- run -------------------------------------------------------------------------------

    def run(
        self,
        *,
        trigger_id: str | None = None,
        only: Sequence[str] | None = None,
        check: bool = False,
        lock_wait: float = 0.0,
        on_event: EventHook | None = None,
        late: LatePolicy = "skip",
        wait_open: float = 0.0,
        command: str | None = None,
        keep_dir: Path | None = None,
    ) -> RunReport:
        """Submit every due model once (``check``: predict and validate all, upload nothing;
        ``command``: the ledger's name for the run, default run or check).

        ``late`` says what to do after a round's close (see :data:`LatePolicy`); ``wait_open``
        waits that many seconds at most for a round that has not opened yet; ``keep_dir``
        (checking) keeps each model's CSV there."""
        if late not in LATE_POLICIES:
            raise ConfigError(f"late policy {late!r}: use one of {', '.join(LATE_POLICIES)}")
        self.run_id = None
        specs = select(self.models, only, whole=self.all_models)
        if wait_open > 0 and not check:
            self.wait_for_open(specs, wait_open)
        with self.lock(lock_wait), Ledger(self.settings.state_path) as ledger:
            run_id = self.run_id = ledger.start_run(
                command or ("check" if check else "run"), trigger_id
            )
            report = RunReport(run_id=run_id, outcomes=[], rounds={})
            timer = Timer()
            started = time.perf_counter()
            requests_before = self._client.requests if self._client is not None else 0
            error: BaseException | None = None
            self._ctx = None
            try:
                with logctx.bind(run_id=run_id):  # every line the run logs names it
                    self._run(
                        report=report,
                        ledger=ledger,
                        run_id=run_id,
                        timer=timer,
                        specs=specs,
                        trigger_id=trigger_id,
                        check=check,
                        on_event=on_event,
                        late=late,
                        keep_dir=keep_dir,
                    )
            except KeyboardInterrupt as exc:
                # Ctrl-C: what was uploaded stays submitted; the rest is marked interrupted.
                error = exc
                if self._ctx is not None:
                    for o in report.outcomes:
                        if o.name in self._ctx.unfinished():
                            interrupt(o)
                            record(ledger, run_id, o)
                raise
            except BaseException as exc:
                error = exc
                raise
            finally:
                if self._client is not None:
                    self._client.retry_until(None)
                # Stages overlap (uploads run while other models predict): total is wall time.
                report.timings = {**timer.totals, "total": time.perf_counter() - started}
                if self._client is not None:
                    report.api_requests = self._client.requests - requests_before
                code = report.exit_code if error is None else int(exit_code_for(error))
                text = None if error is None else (str(error) or type(error).__name__)
                ledger.finish_run(run_id, code, report.summary(), report.timings, error=text)
            return report

    def _run(
        self,
        *,
        report: RunReport,
        ledger: Ledger,
        run_id: str,
        timer: Timer,
        specs: Sequence[ModelSpec],
        trigger_id: str | None,
        check: bool,
        on_event: EventHook | None,
        late: LatePolicy,
        keep_dir: Path | None = None,
    ) -> None:
        with timer.stage("resolve"):
            plan = self._plan(specs, "submit" if check else late)
        report.rounds = dict(plan.rounds)
        if check:
            plan = all_to_predict(plan)
        ctx = RunContext(
            settings=self.settings,
            client=self.client,
            ledger=ledger,
            run_id=run_id,
            now=self.now,
            monotonic=self.clock.monotonic,
            timer=timer,
            late=late,
            trigger_id=trigger_id,
            check=check,
            due=frozenset(m.name for m in plan.pending),
            parts_only=frozenset(m.name for m in plan.to_predict if not m.upload),
            keep_dir=keep_dir if check else None,
        )
        self._ctx = ctx
        if on_event is not None:
            ctx.on_event = on_event
        outcomes: dict[str, Outcome] = {}
        for m in plan.models:
            o = initial_outcome(m)
            outcomes[m.name] = o
            report.outcomes.append(o)
            ctx.record(o)
            ctx.emit("planned", o)
        if plan.to_predict:
            # Imported only when there is work: an idle run never loads pandas or models.
            from .execute import execute

            self._bound_retries(plan)
            report.bytes_downloaded = execute(ctx, plan.to_predict, outcomes)

    def _bound_retries(self, plan: Plan) -> None:
        """Stop retrying in time to report before the earliest close of a round with work
        (no bound when a round has no deadline or is already past it: the run is late anyway)."""
        used = plan.tournaments_to_predict()
        deadlines = [r.deadline() for t, r in plan.rounds.items() if t in used and r is not None]
        if not deadlines or any(d is None for d in deadlines):
            return
        left = (min(d for d in deadlines if d is not None) - self.now()).total_seconds()
        if left > 0:
            self.client.retry_until(self.clock.monotonic() + left - self.report_margin)
            log.debug("retries stop %.0fs from now", left - self.report_margin)
