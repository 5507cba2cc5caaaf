"""What would fail a due model, found before any live data is read: ``plan`` and ``models
check`` fail on what ``run`` would fail on.

Per due model: its data version is listed (one listDatasets per tournament), its artifact
resolves (exists, readable, right magic bytes, matches its pin), its features resolve (a
feature set name needs features.json: small, fetched into the run's cache only when a due
model names a set). A blend has the problems of its parts. A name the account does not know
has its problem from the plan already.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from ..client import NumeraiClient
from ..data import DataCache, read_feature_sets, resolve_version
from ..errors import AutopilotError
from ..models import declared_features
from ..tournaments import Tournament
from .plan import Due, Entry, Plan, with_problem
from .resolve import resolve

log = logging.getLogger(__name__)


def check_plan(plan: Plan, client: NumeraiClient, cache_dir: Path) -> Plan:
    """``plan`` with each due entry's ``problem`` set when the run would fail it."""
    due = plan.to_predict
    listed: dict[Tournament, list[str] | str] = {}
    for m in due:
        t = m.spec.tournament
        if t not in listed:
            try:
                listed[t] = client.list_datasets(t, m.round.number)
            except AutopilotError as exc:
                listed[t] = f"cannot list {t.label} datasets: {exc}"
    cache = DataCache(cache_dir, client)
    fsets: dict[tuple[Tournament, str], Mapping[str, list[str]] | str] = {}
    problems: dict[str, str] = {}
    for m in due:
        problem = _problem(m, listed[m.spec.tournament], cache, fsets)
        if problem is not None:
            problems[m.name] = problem
    for m in due:
        parts = m.spec.blend or {}
        bad = [f"blend part {p!r}: {problems[p]}" for p in parts if p in problems]
        if bad and m.name not in problems:
            problems[m.name] = "; ".join(bad)
    models: list[Entry] = [with_problem(m, problems.get(m.name)) for m in plan.models]
    return Plan(models=models, rounds=plan.rounds, notes=plan.notes)


def _problem(
    m: Due,
    listed: list[str] | str,
    cache: DataCache,
    fsets: dict[tuple[Tournament, str], Mapping[str, list[str]] | str],
) -> str | None:
    if isinstance(listed, str):
        return listed
    t = m.spec.tournament
    try:
        version = resolve_version(listed, t, m.spec.data_version)
        resolved = resolve(m.spec)
    except AutopilotError as exc:
        return str(exc)
    if resolved.fmt in ("blend", "predictions"):
        return None
    sets: Mapping[str, list[str]] | None = None
    if _names_a_set(m.spec.features):
        key = (t, version)
        if key not in fsets:
            fsets[key] = _feature_sets(cache, m, version, listed)
        got = fsets[key]
        if isinstance(got, str):
            return got
        sets = got
    try:
        declared_features(resolved.spec, sets)
    except AutopilotError as exc:
        return str(exc)
    return None


def _names_a_set(features: str | None) -> bool:
    return features is not None and not Path(features).is_absolute()


def _feature_sets(
    cache: DataCache, m: Due, version: str, listed: list[str]
) -> Mapping[str, list[str]] | str:
    t = m.spec.tournament
    name = f"{t.rules.dataset_prefix}{version}/features.json"
    if name not in listed:
        return f"{m.spec.tournament.label} {version} has no features.json to resolve sets in"
    try:
        return read_feature_sets(cache.fetch(t, m.round.number, name))
    except AutopilotError as exc:
        return f"cannot read {name}: {exc}"
