"""Choosing a data version: a model's own ``data_version``, else the written default, and
never silently the newest Numerai lists (a new version can change the feature sets a model
was trained on); :func:`newer_versions` says what the run should warn about."""

from __future__ import annotations

import re

from ..errors import ConfigError
from ..tournaments import Tournament

# The default when a model names none. Classic: v5.2, numerai-predict's own default
# (--dataset v5.2/live.parquet at 19d1769); Numerai's notebooks train on v5.3 now, and a model
# trained so should say data_version = "v5.3" (init writes it).
_DEFAULTS = {Tournament.CLASSIC: "v5.2", Tournament.SIGNALS: "v2.1", Tournament.CRYPTO: "v2.0"}


def default_data_version(tournament: Tournament) -> str:
    """The data version a model of ``tournament`` uses when its entry names none (what
    ``init`` writes into a new models file)."""
    return _DEFAULTS[tournament]


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


def newest_version(datasets: list[str], tournament: Tournament) -> str | None:
    """The newest listed version (compared numerically: v5.10 > v5.9) that has the live file,
    or the newest at all if none has; None when nothing is listed."""
    versions = available_versions(datasets, tournament)
    ordered = sorted(versions, key=_key)
    live = [v for v in ordered if tournament.rules.live_file in versions[v]]
    pool = live or ordered
    return pool[-1] if pool else None


def newer_versions(datasets: list[str], tournament: Tournament, version: str) -> list[str]:
    """Listed versions with a live file that are newer than ``version``, oldest first."""
    versions = available_versions(datasets, tournament)
    return [
        v
        for v in sorted(versions, key=_key)
        if _key(v) > _key(version) and tournament.rules.live_file in versions[v]
    ]


def resolve_version(datasets: list[str], tournament: Tournament, wanted: str | None) -> str:
    """The data version to use: ``wanted`` (``v5.2`` or ``5.2``), or when None the written
    default (:func:`default_data_version`), if listed; else ConfigError listing what is."""
    versions = available_versions(datasets, tournament)
    if not versions:
        raise ConfigError(
            f"Numerai lists no {tournament.label} dataset versions "
            f"(names like {tournament.rules.dataset_prefix}v1.0/live.parquet)"
        )
    ordered = sorted(versions, key=_key)
    norm = (wanted if wanted is not None else default_data_version(tournament)).strip()
    norm = norm if norm.startswith("v") else "v" + norm
    if norm in versions:
        return norm
    which = f"data_version {wanted!r}" if wanted is not None else f"the default data version {norm}"
    raise ConfigError(
        f"{which} is not available for {tournament.label}: set data_version to one of "
        f"{', '.join(ordered)}"
    )
