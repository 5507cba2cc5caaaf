"""A models dir of N distinct models that the autopilot and the seed-style script both read:
``models.toml`` for the autopilot, ``seed_models.json`` and ``features.json`` for the script."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .artifacts import FILES, MIX_KINDS, Trained

SETS = ("lgbm", "mix")


@dataclass(frozen=True)
class ModelsDir:
    """N models under ``dir``: their names, kinds and artifact sizes (bytes)."""

    dir: Path
    model_set: str
    names: list[str]
    kinds: dict[str, str]
    artifact_bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return sum(self.artifact_bytes.values())


def model_names(model_set: str, n: int) -> list[str]:
    prefix = "bench" if model_set == "lgbm" else model_set
    return [f"{prefix}_{i:03d}" for i in range(n)]


def kind_of(model_set: str, i: int) -> str:
    return "lgbm" if model_set == "lgbm" else MIX_KINDS[i % len(MIX_KINDS)]


def xgb_seeds(n: int) -> list[int]:
    """The seeds of the XGBoost models a mix of ``n`` holds."""
    return [i for i in range(n) if kind_of("mix", i) == "xgb"]


def build(trained: Trained, model_set: str, n: int, target: Path) -> ModelsDir:
    """Models 0..n-1 of ``model_set`` in ``target`` (replaced), model i trained with seed i."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    names = model_names(model_set, n)
    kinds = {name: kind_of(model_set, i) for i, name in enumerate(names)}
    toml, sizes, seed = [], {}, {}
    for i, (name, kind) in enumerate(kinds.items()):
        artifact = f"{name}/{FILES[kind]}"
        (target / name).mkdir()
        _link_or_copy(trained.path(kind, i), target / artifact)
        sizes[name] = (target / artifact).stat().st_size
        toml.append(f'[[model]]\nname = "{name}"\nartifact = "{artifact}"\n')
        seed[name] = {"artifact": artifact, "kind": kind}
    (target / "models.toml").write_text('[defaults]\ntournament = "classic"\n\n' + "\n".join(toml))
    # The seed script keeps its feature list next to the models (featuresFilePath in the post)
    # and knows each model's file and kind by heart; here they come from one small file.
    (target / "features.json").write_text(json.dumps(trained.features))
    (target / "seed_models.json").write_text(json.dumps(seed, indent=1))
    return ModelsDir(target, model_set, names, kinds, sizes)


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link (N dirs of the same models cost no disk), a copy across file systems."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
