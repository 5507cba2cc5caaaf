"""Executing a plan: download, load, predict, validate, upload, confirm; one outcome a model.

Separate from runner.py so the orchestration of one pass reads top to bottom. Uploads happen in
the parent as each worker finishes, so uploading overlaps with the other models' predictions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..clock import format_time
from ..config import ModelSpec
from ..data import DataCache, load_frame, read_feature_sets, resolve_version
from ..errors import AutopilotError, ModelError, NumeraiError, PredictionInvalidError
from ..models import declared_features, infer_format, needs_benchmarks, verify_artifact
from ..redact import redact_signed
from ..tournaments import Tournament
from .blend import blend
from .ledger import Ledger
from .plan import Plan, PlannedModel, State
from .report import Outcome, RunReport, Status, record
from .validate import build_submission
from .worker import LiveData, PredictionResult, predict_many, warm_up

if TYPE_CHECKING:
    from .runner import EventHook, LatePolicy, Runner, _Timer

log = logging.getLogger(__name__)


@dataclass
class _Group:
    """The models of one tournament and data version, and the data they share."""

    tournament: Tournament
    round_number: int
    version: str
    models: list[PlannedModel]
    paths: dict[str, Path] | None = None
    live: LiveData | None = None


class Execution:
    def __init__(
        self,
        *,
        runner: Runner,
        plan: Plan,
        ledger: Ledger,
        run_id: str,
        timer: _Timer,
        report: RunReport,
        trigger_id: str | None,
        check: bool,
        on_event: EventHook | None,
        late: LatePolicy = "skip",
    ) -> None:
        self.runner, self.plan, self.ledger, self.run_id = runner, plan, ledger, run_id
        self.late = late
        self.timer, self.report, self.trigger_id, self.check = timer, report, trigger_id, check
        self.on_event: Callable[[str, Outcome], None] = on_event or (lambda _e, _o: None)
        self.outcomes: dict[str, Outcome] = {}
        self.preds: dict[str, pd.Series] = {}
        self.live_ids: dict[str, pd.Index] = {}
        self.planned = {m.name: m for m in plan.models}
        self._listed: dict[Tournament, list[str]] = {}

    # -- bookkeeping ----------------------------------------------------------------------

    def _record(self, o: Outcome) -> None:
        record(self.ledger, self.run_id, o)

    def _fail(self, name: str, stage: str, error: str) -> None:
        o = self.outcomes[name]
        # Before the ledger and the report: no pre-signed URL's signature in either.
        o.status, o.stage, o.error = Status.FAILED, stage, redact_signed(error)
        log.error("model %s failed at %s: %s", name, stage, error)
        self._record(o)
        self.on_event("done", o)

    # -- the pass -------------------------------------------------------------------------

    def go(self) -> None:
        for o in self.report.outcomes:
            self.outcomes[o.name] = o
        work = self.plan.to_predict
        # The workers' fork server starts (and imports the model libraries) while we download.
        formats = set()
        for m in work:
            with contextlib.suppress(AutopilotError):  # an unknown format fails at predict
                formats.add(infer_format(m.spec))
        warm_up(formats)
        cache = DataCache(self.runner.settings.state_path / "cache", self.runner.client)
        groups = self._groups(work)
        with self.timer.stage("download"):
            for g in groups:
                self._guard(g, "download", partial(self._download, cache, g))
        self.report.bytes_downloaded = sum(cache.downloads().values())
        with self.timer.stage("load"):
            for g in groups:
                if g.paths is not None:
                    self._guard(g, "load", partial(self._load, g))
        self._predict([g for g in groups if g.live is not None])
        self._blends()
        if not self.check:
            self._confirm()

    def _guard(self, g: _Group, stage: str, step: Callable[[], None]) -> None:
        """Run a group's step; on failure fail its models (only them) with the reason."""
        try:
            step()
        except AutopilotError as exc:
            g.paths, g.live = None, None
            for m in g.models:
                self._fail(m.name, stage, str(exc))

    def _groups(self, work: Sequence[PlannedModel]) -> list[_Group]:
        client = self.runner.client
        listed: dict[Tournament, list[str]] = {}
        groups: dict[tuple[Tournament, str], _Group] = {}
        for m in work:
            t = m.spec.tournament
            assert m.round is not None  # noqa: S101 - the plan only predicts in open rounds
            try:
                if t not in listed:
                    listed[t] = client.list_datasets(t, m.round.number)
                version = resolve_version(listed[t], t, m.spec.data_version)
            except AutopilotError as exc:
                self._fail(m.name, "download", str(exc))
                continue
            g = groups.setdefault((t, version), _Group(t, m.round.number, version, []))
            g.models.append(m)
        self._listed.update(listed)
        return list(groups.values())

    def _download(self, cache: DataCache, g: _Group) -> None:
        rules = g.tournament.rules
        base = f"{rules.dataset_prefix}{g.version}/"
        listed = set(self._listed[g.tournament])
        paths = {"live": cache.fetch(g.tournament, g.round_number, base + rules.live_file)}
        if base + "features.json" in listed:
            paths["features"] = cache.fetch(g.tournament, g.round_number, base + "features.json")
        bench = base + "live_benchmark_models.parquet"
        if bench in listed and any(needs_benchmarks(m.spec) for m in g.models):
            paths["benchmarks"] = cache.fetch(g.tournament, g.round_number, bench)
        g.paths = paths

    def _load(self, g: _Group) -> None:
        assert g.paths is not None  # noqa: S101 - only called after a download
        paths, rules = g.paths, g.tournament.rules
        fsets = read_feature_sets(paths["features"]) if "features" in paths else None
        # A model whose features cannot be resolved (unknown set, unreadable list) fails
        # alone; the others still load only the columns they need.
        needed: list[list[str] | None] = []
        for m in list(g.models):
            try:
                needed.append(_declared(m, fsets))
            except AutopilotError as exc:
                g.models.remove(m)
                self._fail(m.name, "load", str(exc))
        frame = load_frame(paths["live"], columns=_union(needed), index=rules.id_column)
        bench = None
        if "benchmarks" in paths:
            bench = load_frame(paths["benchmarks"], index=rules.id_column)
        g.live = LiveData(frame=frame, benchmarks=bench, feature_sets=fsets)
        for m in g.models:
            self.live_ids[m.name] = frame.index

    def _predict(self, groups: list[_Group]) -> None:
        settings = self.runner.settings
        # One predict_many call per layer: each tournament appears once per layer with its data.
        layers: list[dict[Tournament, _Group]] = []
        for g in groups:
            for layer in layers:
                if g.tournament not in layer:
                    layer[g.tournament] = g
                    break
            else:
                layers.append({g.tournament: g})
        for layer in layers:
            specs = []
            for g in layer.values():
                for m in g.models:
                    if m.spec.blend is not None:
                        continue
                    try:
                        verify_artifact(m.spec)
                    except ModelError as exc:
                        self._fail(m.name, "load", str(exc))
                        continue
                    specs.append(m.spec)
            specs = self._cheapest_first(specs)
            live = {t: g.live for t, g in layer.items() if g.live is not None}
            with self.timer.stage("predict"):
                predict_many(
                    specs,
                    live,
                    workers=settings.workers,
                    timeout=settings.model_timeout,
                    memory_mb=settings.model_memory_mb,
                    models_dir=settings.models_dir.resolve(),
                    on_result=self._on_result,
                )

    def _cheapest_first(self, specs: list[ModelSpec]) -> list[ModelSpec]:
        """Order by the ledger's last predict time, quickest first, so that when the close is
        near the most models make it; a model never timed counts as the median."""
        seconds: dict[str, float] = {}
        for spec in specs:
            for row in self.ledger.outcomes(model=spec.name, limit=5):
                if "predict" in row.timings:
                    seconds[spec.name] = float(row.timings["predict"])
                    break
        known = sorted(seconds.values())
        median = known[len(known) // 2] if known else 0.0
        return sorted(specs, key=lambda s: seconds.get(s.name, median))

    def _on_result(self, r: PredictionResult) -> None:
        o = self.outcomes[r.name]
        o.timings["predict"] = round(r.seconds, 3)
        if r.error is not None or r.predictions is None:
            self._fail(r.name, "predict", str(r.error or "no predictions"))
            return
        self.preds[r.name] = r.predictions
        o.stage = "predict"
        self.on_event("predicted", o)
        if self.planned[r.name].state is State.PENDING:
            self._submit(self.planned[r.name], r.predictions)

    def _blends(self) -> None:
        for m in self.plan.to_predict:
            # Only blends still untouched: a blend whose data failed was reported already.
            if m.spec.blend is None or self.outcomes[m.name].stage != "plan":
                continue
            missing = [c for c in m.spec.blend if c not in self.preds]
            if missing:
                self._fail(m.name, "predict", f"blend components failed: {', '.join(missing)}")
                continue
            try:
                preds = blend({c: self.preds[c] for c in m.spec.blend}, m.spec.blend)
            except PredictionInvalidError as exc:
                self._fail(m.name, "predict", str(exc))
                continue
            self._submit(m, preds)

    def _submit(self, m: PlannedModel, preds: pd.Series) -> None:
        o = self.outcomes[m.name]
        with self.timer.stage("validate"):
            try:
                sub = build_submission(
                    m.spec.tournament, preds, self.live_ids[m.name], rank=m.spec.rank
                )
            except PredictionInvalidError as exc:
                self._fail(m.name, "validate", str(exc))
                return
        data = sub.to_csv(index=False).encode()
        o.checksum = hashlib.sha256(data).hexdigest()
        if self.check:
            o.status, o.stage, o.error = Status.CHECKED, "done", None
            self._record(o)
            self.on_event("done", o)
            return
        assert m.model_id is not None and m.round is not None  # noqa: S101 - pending => known
        deadline = m.round.deadline()
        if deadline is not None and self.runner.now() >= deadline:
            if self.late == "skip":
                self._fail(
                    m.name,
                    "upload",
                    f"round {m.round.number} closed at {format_time(deadline)} before the "
                    "predictions were ready; not submitted late (late policy 'skip'; "
                    "--late submit sends it and Numerai counts it as late)",
                )
                return
            o.late = True
        o.stage = "upload"
        self._record(o)
        with self.timer.stage("upload"):
            try:
                o.submission_id = self.runner.client.upload_submission(
                    model_id=m.model_id,
                    tournament=m.spec.tournament,
                    round_number=m.round.number,
                    data=data,
                    filename=f"{m.name}_round{m.round.number}.csv",
                    trigger_id=self.trigger_id,
                )
            except NumeraiError as exc:
                self._fail(m.name, "upload", str(exc))
                return
        o.status, o.stage, o.error = Status.SUBMITTED, "done", None
        self._record(o)
        self.on_event("done", o)

    def _confirm(self) -> None:
        """Ask the API, once, whether every upload of this run is listed for its round."""
        uploaded = [o for o in self.outcomes.values() if o.status is Status.SUBMITTED]
        if not uploaded:
            return
        try:
            latest = self.runner.client.latest_submissions()
        except NumeraiError as exc:
            log.warning("could not confirm uploads through the API: %s", exc)
            return
        for o in uploaded:
            # latestSubmissions lists a placeholder (status "none", no id) for a round without
            # a submission: only our id, or a real submission for the round, confirms.
            seen = latest.get(o.model_id or "", [])
            if not any(
                s.id == o.submission_id
                or (s.round_number == o.round_number and s.status not in (None, "none"))
                for s in seen
            ):
                self._fail(
                    o.name,
                    "confirm",
                    f"uploaded (submission {o.submission_id}) but the API does not list "
                    f"it for round {o.round_number}",
                )


def _declared(m: PlannedModel, fsets: Mapping[str, list[str]] | None) -> list[str] | None:
    """The features ``m`` will read ([] for blends and prediction files; None: unknown)."""
    if m.spec.blend is not None or infer_format(m.spec) == "predictions":
        return []
    return declared_features(m.spec, fsets)


def _union(needed: Sequence[list[str] | None]) -> list[str] | None:
    """The columns to load: the union of what the models need, or None (all) when some
    model's features cannot be known without loading it (a pickle, a function)."""
    if any(n is None for n in needed):
        return None
    return sorted({c for n in needed if n is not None for c in n})
