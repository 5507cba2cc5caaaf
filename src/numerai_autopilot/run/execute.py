"""Executing a plan: resolve -> group -> download -> load -> predict -> submit -> confirm.

Each stage is a function (or, for the uploads, the Submitter) over the jobs that are still
alive; a stage fails only the jobs it could not serve. Validation and uploads run on a
background thread (uploader.py) as each worker finishes, so they overlap the other models'
predictions and never delay starting the next worker. Imported only when
there is work: this module loads pandas.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .. import _platform
from ..config import ModelSpec
from ..data import DataCache
from ..errors import AutopilotError, PredictionInvalidError
from ..tournaments import Tournament
from .blend import blend
from .compiled_use import Compiled
from .context import RunContext
from .fetch import Group, download, group, load
from .job import Job
from .plan import Due
from .report import Outcome
from .resolve import resolve
from .uploader import Uploader
from .validate import preload as preload_validation
from .worker import PredictionResult, predict_many, warm_up

log = logging.getLogger(__name__)


def execute(ctx: RunContext, due: Sequence[Due], outcomes: Mapping[str, Outcome]) -> int:
    """Run every stage for the ``due`` entries (their outcomes in ``outcomes``, updated and
    recorded in place); returns the bytes downloaded."""
    with _platform.worker_mode(ctx.settings.worker_mode):
        return _execute(ctx, due, outcomes)


def _execute(ctx: RunContext, due: Sequence[Due], outcomes: Mapping[str, Outcome]) -> int:
    jobs = _resolve(ctx, due, outcomes)
    # The fork server's socket and the workers' scratch files need a temporary folder.
    _platform.ensure_tempdir(ctx.settings.state_path / "tmp")
    compiled = Compiled(ctx.settings.state_path / "compiled", jobs)
    # The workers' fork server starts (and imports the model libraries) while we download;
    # so does numerai-tools, for the first validation (0.6 s of CPU otherwise on its path).
    warm_up(compiled.formats({j.resolved.fmt for j in jobs}))
    preload_validation()
    cache = DataCache(ctx.settings.state_path / "cache", ctx.client)
    groups = group(ctx, jobs)
    with ctx.timer.stage("download"):
        groups = download(ctx, cache, groups)
    with ctx.timer.stage("load"):
        groups = load(ctx, cache, groups)
    compiled.remember(groups)
    with Uploader(ctx) as uploader:
        preds = _predict(ctx, groups, uploader, compiled.root)
        compiled.report()
        _blends(ctx, [j for g in groups for j in g.jobs if j.is_blend], preds, uploader)
        uploader.close()
    if not ctx.check:
        uploader.submitter.confirm()
    return sum(cache.downloads().values())


def _resolve(ctx: RunContext, due: Sequence[Due], outcomes: Mapping[str, Outcome]) -> list[Job]:
    """Look at each artifact once; a model whose artifact is wrong fails here, alone."""
    jobs = []
    for entry in due:
        o = outcomes[entry.name]
        try:
            jobs.append(Job(entry, resolve(entry.spec), o))
        except AutopilotError as exc:
            ctx.fail(o, "load", str(exc))
    return jobs


def _layers(groups: Sequence[Group]) -> list[dict[Tournament, Group]]:
    """One predict_many call per layer: each tournament appears once per layer, with its data."""
    layers: list[dict[Tournament, Group]] = []
    for g in groups:
        for layer in layers:
            if g.tournament not in layer:
                layer[g.tournament] = g
                break
        else:
            layers.append({g.tournament: g})
    return layers


def _predict(
    ctx: RunContext, groups: Sequence[Group], submitter: Uploader, compiled: Path | None
) -> dict[str, pd.Series]:
    """Predict every non-blend job in its worker; each result is submitted as it arrives.
    Returns the predictions by model name (what the blends are made of)."""
    settings = ctx.settings
    preds: dict[str, pd.Series] = {}
    for layer in _layers(groups):
        jobs = {j.name: j for g in layer.values() for j in g.jobs if not j.is_blend}

        def on_result(r: PredictionResult, jobs: Mapping[str, Job] = jobs) -> None:
            job = jobs[r.name]
            job.outcome.timings["predict"] = round(r.seconds, 3)
            job.outcome.output = r.output or None  # what the model printed, kept with it
            if r.error is not None or r.predictions is None:
                ctx.fail(job.outcome, "predict", str(r.error or "no predictions"))
                return
            if r.refusal is not None:
                job.outcome.warning = f"would be refused as a Model Upload: {r.refusal}"
                log.warning("model %s %s", r.name, job.outcome.warning)
            preds[r.name] = r.predictions
            job.outcome.stage = "predict"
            ctx.emit("predicted", job.outcome)
            submitter.submit(job, r.predictions)

        live = {t: g.live for t, g in layer.items() if g.live is not None}
        with ctx.timer.stage("predict"):
            predict_many(
                _cheapest_first(ctx, [_strict(ctx, j.resolved.spec) for j in jobs.values()]),
                live,
                workers=settings.workers,
                timeout=settings.model_timeout,
                memory_mb=settings.model_memory_mb,
                models_dir=settings.models_dir.resolve(),
                on_result=on_result,
                frames_dir=settings.state_path / "frames",
                compiled=compiled,
            )
    return preds


def _strict(ctx: RunContext, spec: ModelSpec) -> ModelSpec:
    """The spec with the run's --strict-model-upload applied (either one makes it strict)."""
    if ctx.settings.strict_model_upload and not spec.strict_model_upload:
        return dataclasses.replace(spec, strict_model_upload=True)
    return spec


def _cheapest_first(ctx: RunContext, specs: list[ModelSpec]) -> list[ModelSpec]:
    """Order by the ledger's last predict time, quickest first, so that when the close is
    near the most models make it; a model never timed counts as the median."""
    seconds: dict[str, float] = {}
    for spec in specs:
        for row in ctx.ledger.outcomes(model=spec.name, limit=5):
            if "predict" in row.timings:
                seconds[spec.name] = float(row.timings["predict"])
                break
    known = sorted(seconds.values())
    median = known[len(known) // 2] if known else 0.0
    return sorted(specs, key=lambda s: seconds.get(s.name, median))


def _blends(
    ctx: RunContext, jobs: Sequence[Job], preds: Mapping[str, pd.Series], submitter: Uploader
) -> None:
    """Each blend from its parts' predictions; a part that failed fails the blend, naming the
    part and its reason."""
    for job in jobs:
        weights = job.entry.spec.blend or {}
        failed = [p for p in weights if p not in preds]
        if failed:
            reasons = "; ".join(_part_reason(ctx, p) for p in failed)
            ctx.fail(job.outcome, "predict", f"blend parts failed: {reasons}")
            continue
        try:
            mixed = blend({p: preds[p] for p in weights}, weights)
        except PredictionInvalidError as exc:
            ctx.fail(job.outcome, "predict", str(exc))
            continue
        submitter.submit(job, mixed)


def _part_reason(ctx: RunContext, part: str) -> str:
    reason = ctx.failures.get(part)
    return f"{part} ({reason})" if reason else part
