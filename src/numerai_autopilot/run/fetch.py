"""The data stages: group the jobs by tournament and data version, download each group's files
once, load each live frame once with only the columns its models read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..data import DataCache, load_frame, newer_versions, read_feature_sets, resolve_version
from ..errors import AutopilotError, UnreadableDataError
from ..models import declared_features, names_feature_set
from ..tournaments import Tournament
from .check_stats import EXAMPLE_FILE, example_predictions
from .context import RunContext
from .job import Job
from .worker import LiveData

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass
class Group:
    """The jobs of one tournament and data version, and the data they share."""

    tournament: Tournament
    round_number: int
    version: str
    listed: frozenset[str]
    jobs: list[Job] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)
    live: LiveData | None = None


def group(ctx: RunContext, jobs: Sequence[Job]) -> list[Group]:
    """One listDatasets per tournament; a job whose data version is not listed fails alone."""
    listed: dict[Tournament, list[str]] = {}
    groups: dict[tuple[Tournament, str], Group] = {}
    for job in jobs:
        t, rnd = job.tournament, job.entry.round
        try:
            if t not in listed:
                listed[t] = ctx.client.list_datasets(t, rnd.number)
            version = resolve_version(listed[t], t, job.entry.spec.data_version)
        except AutopilotError as exc:
            ctx.fail(job.outcome, "download", str(exc))
            continue
        g = groups.get((t, version))
        if g is None:
            g = groups[(t, version)] = Group(t, rnd.number, version, frozenset(listed[t]))
        g.jobs.append(job)
    for g in groups.values():
        newer = newer_versions(list(g.listed), g.tournament, g.version)
        if newer:  # said, never acted on: a new version can change what a model reads
            names = ", ".join(j.name for j in g.jobs)
            log.warning(
                "%s data %s is listed, newer than %s which %s use(s): set data_version = "
                '"%s" for a model once it is checked on it',
                g.tournament.label,
                ", ".join(newer),
                g.version,
                names,
                newer[-1],
            )
    return list(groups.values())


def download(ctx: RunContext, cache: DataCache, groups: Sequence[Group]) -> list[Group]:
    """Fetch each group's live file, features.json (when an entry names one of its sets) and
    (when a model may take them) the benchmark models; the groups whose download failed have
    their jobs failed and are dropped."""
    ok = []
    for g in groups:
        rules = g.tournament.rules
        base = f"{rules.dataset_prefix}{g.version}/"
        wanted = {"live": base + rules.live_file}
        # features.json only for an entry that names one of its sets (0.36 MB and a request
        # otherwise, for nothing: a model's own stored names come first).
        if base + "features.json" in g.listed and any(
            names_feature_set(j.resolved.spec) for j in g.jobs
        ):
            wanted["features"] = base + "features.json"
        bench = base + "live_benchmark_models.parquet"
        if bench in g.listed and any(j.resolved.benchmarks for j in g.jobs):
            wanted["benchmarks"] = bench
        if ctx.check and base + EXAMPLE_FILE in g.listed:  # to compare each model with
            wanted["example"] = base + EXAMPLE_FILE
        try:
            g.paths = {k: cache.fetch(g.tournament, g.round_number, v) for k, v in wanted.items()}
        except AutopilotError as exc:
            _fail_group(ctx, g, "download", str(exc))
            continue
        ok.append(g)
    return ok


def load(ctx: RunContext, cache: DataCache, groups: Sequence[Group]) -> list[Group]:
    """Read each group's live frame once, projected on the union of its models' features. A
    cached file that fails to load is evicted, so the next attempt downloads it again."""
    ok = []
    for g in groups:
        try:
            _load(ctx, cache, g)
        except AutopilotError as exc:
            _fail_group(ctx, g, "load", str(exc))
            continue
        ok.append(g)
    return ok


def _evicting(cache: DataCache, path: Path, read: Callable[[], T]) -> T:
    """``read()`` of a cached ``path``; a file that cannot be read leaves the cache with it."""
    try:
        return read()
    except UnreadableDataError:
        cache.evict(path)
        raise


def _load(ctx: RunContext, cache: DataCache, g: Group) -> None:
    rules = g.tournament.rules
    paths = g.paths
    fsets = None
    if "features" in paths:
        fsets = _evicting(cache, paths["features"], lambda: read_feature_sets(paths["features"]))
    # A model whose features cannot be resolved (unknown set, unreadable list) fails alone;
    # the others still load only the columns they need.
    needed: list[list[str] | None] = []
    for job in list(g.jobs):
        try:
            needed.append(_declared(job, fsets))
        except AutopilotError as exc:
            g.jobs.remove(job)
            ctx.fail(job.outcome, "load", str(exc))
    columns = _union(needed)
    frame = _evicting(
        cache,
        paths["live"],
        lambda: load_frame(paths["live"], columns=columns, index=rules.id_column),
    )
    bench = None
    if "benchmarks" in paths:
        bench = _evicting(
            cache,
            paths["benchmarks"],
            lambda: load_frame(paths["benchmarks"], index=rules.id_column),
        )
    g.live = LiveData(frame=frame, benchmarks=bench, feature_sets=fsets)
    example = None
    if "example" in paths:
        example = example_predictions(
            _evicting(
                cache, paths["example"], lambda: load_frame(paths["example"], index=rules.id_column)
            )
        )
    for job in g.jobs:
        job.live_ids = frame.index
        job.example = example


def _fail_group(ctx: RunContext, g: Group, stage: str, error: str) -> None:
    g.live = None
    for job in g.jobs:
        ctx.fail(job.outcome, stage, error)
    g.jobs = []


_WHOLE_FRAME = frozenset({"pickle", "function"})


def _declared(job: Job, fsets: Mapping[str, list[str]] | None) -> list[str] | None:
    """The features ``job`` will read ([] for blends and prediction files; None: unknown)."""
    if job.resolved.fmt in ("blend", "predictions"):
        return []
    if job.resolved.fmt in _WHOLE_FRAME:
        # Numerai hands a Model Upload function the whole live frame whatever ``features``
        # says (it may read era or any feature), and a pickle may turn out to be one.
        declared_features(job.resolved.spec, fsets)  # a wrong ``features`` still fails it
        return None
    return declared_features(job.resolved.spec, fsets)


def _union(needed: Sequence[list[str] | None]) -> list[str] | None:
    """The columns to load: the union of what the models need, or None (all) when some
    model's features cannot be known without loading it (a pickle, a function)."""
    if any(n is None for n in needed):
        return None
    return sorted({c for n in needed if n is not None for c in n})
