"""``numerai-autopilot init``: a first models file written from the account, not typed by hand.

The API is asked (through :class:`~numerai_autopilot.client.NumeraiClient`) for the account's
models and for each tournament's data versions; the file names every model with its
tournament, pins the newest data version it has a live file for, and leaves one ``artifact``
line per model to fill in. Until it is filled in, ``plan`` and ``models check`` name the missing
file of each model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .config import MODELS_FILE
from .errors import ConfigError
from .fileio import write_atomic
from .tournaments import Tournament

if TYPE_CHECKING:
    from .client import AccountModel, NumeraiClient

ARTIFACT_HINT = "fill in: the model's file, relative to this folder"


@dataclass(frozen=True)
class StarterFile:
    """What ``init`` wrote: the file, the models in it and each tournament's pinned version."""

    path: Path
    models: list[AccountModel]
    versions: dict[Tournament, str]


def init_models_file(
    client: NumeraiClient, models_dir: Path, tournaments: Iterable[Tournament] = ()
) -> StarterFile:
    """Write ``models_dir/models.toml`` for the account's models (only ``tournaments``' when
    given). Refuses (ConfigError naming the file) to replace an existing file, and to write a
    file with no model in it."""
    from .data import newest_version, resolve_version

    path = models_dir / MODELS_FILE
    if path.exists():
        raise ConfigError(
            f"{path} already exists: init never overwrites a models file "
            "(move it away, or pass another --models-dir)"
        )
    wanted = set(tournaments)
    models = [m for m in client.account_models() if not wanted or m.tournament in wanted]
    if not models:
        which = ", ".join(sorted(t.label for t in wanted)) if wanted else "any tournament"
        raise ConfigError(f"the account has no model in {which}: nothing to write to {path}")
    used = sorted({m.tournament for m in models})
    # Pinned to the newest version with a live file (what a model trained today uses; the
    # notebooks train on the newest), else the written default; the run never switches it.
    versions: dict[Tournament, str] = {}
    for t in used:
        listed = client.list_datasets(t)
        versions[t] = newest_version(listed, t) or resolve_version(listed, t, None)
    write_atomic(path, render_models_file(models, versions))
    return StarterFile(path=path, models=models, versions=versions)


def render_models_file(models: list[AccountModel], versions: dict[Tournament, str]) -> str:
    """The commented models.toml text: one ``[[model]]`` per model, grouped by tournament."""
    lines = [
        "# Written by `numerai-autopilot init` from the account's models: one [[model]] per",
        "# Numerai model (README, 'The models file'). Paths are relative to this folder.",
        "# Fill in each `artifact` line, then `numerai-autopilot models check` loads and",
        "# predicts every model on live data without uploading; `plan` shows what `run` does.",
        "# A model you do not want submitted: `enabled = false`, or delete its entry.",
    ]
    for t in sorted(versions):
        lines += [
            "",
            f"# --- {t.label} ---------------------------------------------------------------",
            f"# data_version: the newest {t.label} version when this file was written; delete",
            "# the line to use the written default (the version numerai-predict defaults to).",
        ]
        for m in sorted((m for m in models if m.tournament == t), key=lambda m: m.name):
            lines += ["", *_entry(m, versions[t])]
    return "\n".join(lines) + "\n"


def _entry(m: AccountModel, version: str) -> list[str]:
    entry = [
        "[[model]]",
        f"name = {_toml(m.name)}",
        f"tournament = {_toml(m.tournament.label)}",
        f"data_version = {_toml(version)}",
        f"artifact = {_toml(m.name + '.pkl')}   # {ARTIFACT_HINT}",
    ]
    entry.append("# rank = true   # rank the predictions into (0, 1] before submitting")
    if m.model_upload:
        # Numerai computes this model's predictions from its Model Upload; the API refuses
        # our submission for it (plan reports it), so it starts disabled.
        entry.insert(0, "# runs a Numerai Model Upload (Numerai predicts it), so it starts off")
        entry.append("enabled = false")
    return entry


def _toml(value: str) -> str:
    # A JSON string is a valid TOML basic string for the names Numerai allows.
    return json.dumps(value, ensure_ascii=False)
