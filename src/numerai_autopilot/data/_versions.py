"""Choosing a data version from what ``listDatasets`` offers (never a hard-coded one)."""

from __future__ import annotations

import re

from ..errors import ConfigError
from ..tournaments import Tournament


def available_versions(datasets: list[str], tournament: Tournament) -> dict[str, set[str]]:
    """version (``v5.2``) -> file names in it, for the tournament's dataset names only."""
    prefix = re.escape(tournament.rules.dataset_prefix)
    pattern = re.compile(rf"^{prefix}(v\d+(?:\.\d+)*)/(.+)$")
    out: dict[str, set[str]] = {}
    for name in datasets:
        m = pattern.match(name)
        if m:
            out.setdefault(m.group(1), set()).add(m.group(2))
    return out


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version[1:].split("."))


def resolve_version(datasets: list[str], tournament: Tournament, wanted: str | None) -> str:
    """The data version to use: ``wanted`` (``v5.2`` or ``5.2``) if listed, else ConfigError
    listing what is; when None, the newest version (compared numerically: v5.10 > v5.9) that has
    the live file, or the newest at all if none has."""
    versions = available_versions(datasets, tournament)
    if not versions:
        raise ConfigError(
            f"Numerai lists no {tournament.label} dataset versions "
            f"(names like {tournament.rules.dataset_prefix}v1.0/live.parquet)"
        )
    ordered = sorted(versions, key=_key)
    if wanted is not None:
        norm = wanted.strip()
        norm = norm if norm.startswith("v") else "v" + norm
        if norm in versions:
            return norm
        raise ConfigError(
            f"data_version {wanted!r} is not available for {tournament.label}: "
            f"choose one of {', '.join(ordered)}"
        )
    live = [v for v in ordered if tournament.rules.live_file in versions[v]]
    return (live or ordered)[-1]
