"""Which models a shard runs: a stable assignment that every shard computes alone, the same.

Each shard is its own process (a pod, an array job's child) with its own ledger and data cache,
so the assignment may depend only on what all of them see identically: the models file and the
optional times file beside it (``<models dir>/shard-times.json``), never on a shard's ledger.

1. Models joined by a blend form one group (the connected components of "is a part of"), so a
   blend always runs on the shard that predicts its parts.
2. Without a times file, a group goes to shard ``sha256(smallest name) mod N``: a model keeps
   its shard while the models file keeps it, even when other models come and go.
3. With a times file (``{"model": seconds}``, written by ``numerai-autopilot shard-times
   --write`` from a ledger that has timed the models), groups are balanced by their predict
   seconds: longest first, each to the least loaded shard (ties: the lower index), a model
   not in the file counting as the median of those that are. The same file and models file
   give every shard the same answer; a changed file may move models (deploy it with the image).
"""

from __future__ import annotations

import hashlib
import json
import logging
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..config import ModelsConfig, ModelSpec, ShardSpec, name_key
from ..errors import ConfigError
from ..fileio import write_atomic
from .ledger import Ledger

log = logging.getLogger(__name__)

TIMES_FILE = "shard-times.json"


def blend_groups(specs: Sequence[ModelSpec]) -> list[list[ModelSpec]]:
    """The models joined by blends, each group in models-file order, groups in the order of
    their first member."""
    parent = {name_key(s.name): name_key(s.name) for s in specs}

    def root(k: str) -> str:
        for _ in range(len(parent)):  # bounded: a path is never longer than the set
            if parent[k] == k:
                break
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for s in specs:
        for part in s.blend or {}:
            a, b = root(name_key(s.name)), root(name_key(part))
            if b in parent and a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[ModelSpec]] = {}
    for s in specs:
        groups.setdefault(root(name_key(s.name)), []).append(s)
    return list(groups.values())


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def assign(
    specs: Sequence[ModelSpec], count: int, times: Mapping[str, float] | None = None
) -> dict[str, int]:
    """Each model's shard (0 to ``count - 1``), by the rules in this module's docstring."""
    groups = [(min(name_key(s.name) for s in g), g) for g in blend_groups(specs)]
    known = {name_key(k): v for k, v in (times or {}).items()}
    known = {k: v for k, v in known.items() if k in {name_key(s.name) for s in specs}}
    shard_of: dict[str, int] = {}
    if not known:
        for key, group in groups:
            for s in group:
                shard_of[s.name] = _hash(key) % count
        return shard_of
    median = statistics.median(known.values())

    def weight(group: list[ModelSpec]) -> float:
        return sum(known.get(name_key(s.name), median) for s in group)

    load = [0.0] * count
    # Longest first; equal weights in hash order, so the result never depends on file order.
    for _key, group in sorted(groups, key=lambda kg: (-weight(kg[1]), _hash(kg[0]), kg[0])):
        target = min(range(count), key=lambda i: (load[i], i))
        load[target] += weight(group)
        for s in group:
            shard_of[s.name] = target
    return shard_of


def share(models: ModelsConfig, shard: ShardSpec | None) -> ModelsConfig:
    """The entries of ``models`` that ``shard`` runs (all of them when ``shard`` is None)."""
    if shard is None:
        return models
    times = load_times(models.path.parent)
    shard_of = assign(models.models, shard.count, times)
    mine = [s for s in models.models if shard_of[s.name] == shard.index]
    log.info(
        "shard %s (%s): %d of %d models: %s",
        shard,
        "balanced by " + TIMES_FILE if times else "by name hash",
        len(mine),
        len(models.models),
        ", ".join(s.name for s in mine) or "none",
    )
    return replace(models, models=mine)


def load_times(models_dir: Path) -> dict[str, float]:
    """``<models_dir>/shard-times.json`` (model -> predict seconds), or {} when there is none."""
    path = models_dir / TIMES_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc}); rewrite it or delete it") from None
    ok = isinstance(raw, dict) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in raw.values()
    )
    if not ok:
        raise ConfigError(
            f"{path}: must be an object of model name -> predict seconds (>= 0); "
            "rewrite it with `numerai-autopilot shard-times --write` or delete it"
        )
    return {str(k): float(v) for k, v in raw.items()}


def measured_times(ledger: Ledger, names: Iterable[str], *, last: int = 5) -> dict[str, float]:
    """The median predict seconds of each model's ``last`` timed outcomes in ``ledger`` (a
    model never timed there is left out)."""
    out: dict[str, float] = {}
    for name in names:
        seconds = [
            float(row.timings["predict"])
            for row in ledger.outcomes(model=name, limit=50)
            if "predict" in row.timings
        ][:last]
        if seconds:
            out[name] = round(statistics.median(seconds), 3)
    return out


def write_times(models_dir: Path, times: Mapping[str, float]) -> Path:
    """Write ``times`` as the shared times file, atomically; returns its path."""
    path = models_dir / TIMES_FILE
    write_atomic(path, json.dumps(dict(sorted(times.items())), indent=2) + "\n")
    return path
