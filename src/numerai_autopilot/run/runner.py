"""The run: one pass that submits exactly what is missing, safe to repeat at any time.

resolve rounds and status (one API request) -> plan -> download each needed file once ->
load each once (column projection) -> predict in isolated workers -> validate -> upload and
confirm -> record in the ledger -> report. One model's failure never stops the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import filelock

from ..client import NumeraiClient
from ..client._snapshot import take_snapshot
from ..clock import Clock, SystemClock
from ..config import ModelsConfig, ModelSpec, Settings, load_models_file
from ..errors import ConfigError, LockedError
from .ledger import Ledger
from .plan import Plan, PlannedModel, State, make_plan
from .report import Outcome, RunReport, initial_outcome

log = logging.getLogger(__name__)

EventHook = Callable[[str, Outcome], None]
"""Called with (event, outcome) as models move on: 'planned', 'predicted', 'done'."""


@dataclass
class _Timer:
    totals: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t0


class Runner:
    """Runs, plans and checks the models of one models dir against one Numerai account."""

    def __init__(
        self,
        settings: Settings,
        *,
        client: NumeraiClient | None = None,
        clock: Clock | None = None,
        models: ModelsConfig | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.models = models or load_models_file(settings.models_dir)
        self._client = client
        self._own_client = client is None

    # -- resources -------------------------------------------------------------------------

    @property
    def client(self) -> NumeraiClient:
        if self._client is None:
            public_id, secret = self.settings.require_credentials()
            self._client = NumeraiClient(
                self.settings.api_url, public_id, secret, timeout=self.settings.http_timeout
            )
        return self._client

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the state dir's run lock, so two runs never both upload."""
        state = self.settings.state_path
        state.mkdir(parents=True, exist_ok=True)
        path = state / "run.lock"
        lock = filelock.FileLock(path)
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout:
            raise LockedError(
                f"another run holds {path}: it is still submitting; wait for it to finish "
                "(or pass --wait-lock SECONDS)"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # -- plan ------------------------------------------------------------------------------

    def plan(self, specs: Sequence[ModelSpec] | None = None) -> Plan:
        """Steps 1-3 without side effects: rounds, status, and what is due."""
        specs = list(specs if specs is not None else self.models.models)
        tournaments = {s.tournament for s in specs if s.enabled}
        status = take_snapshot(self.client, sorted(tournaments))
        now = self.clock.now()
        now_open = {t: (r is not None and r.is_open(now)) for t, r in status.rounds.items()}
        return make_plan(specs, status.models, status.rounds, status.latest, now_open)

    def status(self) -> list[dict[str, object]]:
        """Each configured model this round: the API's state merged with the ledger's record."""
        p = self.plan()
        rows: list[dict[str, object]] = []
        with Ledger(self.settings.state_path) as ledger:
            for m in p.models:
                last = ledger.last_outcome(m.name, m.round.number) if m.round else None
                rows.append(
                    {
                        "model": m.name,
                        "tournament": m.spec.tournament.label,
                        "round": m.round.number if m.round else None,
                        "api": str(m.state),
                        "ledger": last.status if last else None,
                        "submission": (m.submission.id if m.submission else None)
                        or (last.submission_id if last else None),
                        "error": (last.error if last and last.status == "failed" else m.reason),
                    }
                )
        return rows

    # -- run -------------------------------------------------------------------------------

    def run(
        self,
        *,
        trigger_id: str | None = None,
        only: Sequence[str] | None = None,
        check: bool = False,
        lock_wait: float = 0.0,
        on_event: EventHook | None = None,
    ) -> RunReport:
        """Submit every due model once (``check``: predict and validate all, upload nothing)."""
        specs = self._select(only)
        with self.lock(lock_wait), Ledger(self.settings.state_path) as ledger:
            run_id = ledger.start_run("check" if check else "run", trigger_id)
            timer = _Timer()
            report = RunReport(run_id=run_id, outcomes=[], rounds={})
            try:
                with timer.stage("resolve"):
                    plan = self.plan(specs)
                report.rounds = dict(plan.rounds)
                if check:
                    plan = _all_to_predict(plan)
                for m in plan.models:
                    o = initial_outcome(m)
                    report.outcomes.append(o)
                    ledger.record(
                        run_id,
                        o.name,
                        tournament=int(o.tournament),
                        round_number=o.round_number,
                        stage=o.stage,
                        status=str(o.status),
                        model_id=o.model_id,
                        error=o.error,
                        submission_id=o.submission_id,
                    )
                    if on_event:
                        on_event("planned", o)
                if plan.to_predict:
                    # Imported only when there is work: an idle run never loads pandas or models.
                    from .execute import Execution

                    Execution(
                        runner=self,
                        plan=plan,
                        ledger=ledger,
                        run_id=run_id,
                        timer=timer,
                        report=report,
                        trigger_id=trigger_id,
                        check=check,
                        on_event=on_event,
                    ).go()
            finally:
                report.timings = {**timer.totals, "total": sum(timer.totals.values())}
                ledger.finish_run(run_id, report.exit_code, report.summary(), report.timings)
            return report

    def _select(self, only: Sequence[str] | None) -> list[ModelSpec]:
        specs = self.models.models
        if not only:
            return list(specs)
        names = set(only)
        unknown = names - {s.name for s in specs}
        if unknown:
            raise ConfigError(
                f"not in {self.models.path}: {', '.join(sorted(unknown))} (check --model names)"
            )
        # Keep blend components of selected blends so they can be predicted.
        wanted = set(names)
        for s in specs:
            if s.name in names and s.blend:
                wanted |= set(s.blend)
        return [s if s.name in names else _disabled(s) for s in specs if s.name in wanted]


def _disabled(spec: ModelSpec) -> ModelSpec:
    from dataclasses import replace

    return replace(spec, enabled=False)


def _all_to_predict(plan: Plan) -> Plan:
    """For `models check`: every enabled model predicts on its tournament's current live data,
    submitted or not, known to the account or not; nothing is uploaded."""
    models = []
    for m in plan.models:
        rnd = plan.rounds.get(m.spec.tournament)
        if m.state is not State.DISABLED and rnd is not None:
            models.append(
                PlannedModel(
                    m.spec, State.PENDING, m.model_id, rnd, m.submission, m.reason, predict=True
                )
            )
        else:
            models.append(m)
    return Plan(models=models, rounds=plan.rounds, notes=plan.notes)
