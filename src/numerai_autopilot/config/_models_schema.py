"""The models file's shape (the TOML document, before defaults and paths are applied), checked
strictly (config/_fields.py), and its mistakes as lines naming the entry and the field."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models.formats import FORMAT_NAMES
from ._fields import Problem, as_bool, as_float, as_int, as_str, build, field_names, spec, weights
from ._limits import MAX_BLEND_WEIGHT, MAX_MEMORY_MB, MAX_MODEL_TIMEOUT

# The names come from the models package's one registry of formats (see models/formats.py).
FORMATS = FORMAT_NAMES
Format = str


def _check_format(v: str) -> str:
    if v not in FORMATS:
        raise ValueError(f"unknown format: use one of {', '.join(FORMATS)}")
    return v


def _check_sha(v: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", v):
        raise ValueError("must be 64 hexadecimal digits (sha256sum of the artifact)")
    return v.lower()


def _check_entrypoint(v: str) -> str:
    if not re.fullmatch(r"[\w.]+:[\w]+", v):
        raise ValueError("must look like 'module:function'")
    return v


def _check_blend(v: dict[str, float]) -> dict[str, float]:
    if not v:
        raise ValueError("needs at least one entry name with a weight")
    if not all(math.isfinite(w) and 0 < w <= MAX_BLEND_WEIGHT for w in v.values()):
        bad = ", ".join(f"{k} = {w}" for k, w in v.items() if not 0 < w <= MAX_BLEND_WEIGHT)
        raise ValueError(
            f"weights must be positive finite numbers up to {MAX_BLEND_WEIGHT:g} "
            f"(weights are relative): {bad}"
        )
    return v


_TIMEOUT: dict[str, Any] = {"gt": 0, "le": MAX_MODEL_TIMEOUT, "finite": True}
_MEMORY: dict[str, Any] = {"gt": 0, "le": MAX_MEMORY_MB}


# Strict (build(..., strict=True)): ``rank = "yes"`` or ``memory_mb = 2.0`` is a mistake to
# report, not to coerce; a whole number is fine where a number is expected.
@dataclass(frozen=True)
class ModelDefaults:
    tournament: str = spec(as_str, "classic")
    data_version: str | None = spec(as_str)
    features: str | None = spec(as_str)
    rank: bool = spec(as_bool, False)
    timeout: float | None = spec(as_float, **_TIMEOUT)
    memory_mb: int | None = spec(as_int, **_MEMORY)
    strict_model_upload: bool = spec(as_bool, False)


@dataclass(frozen=True)
class _ModelEntry:
    name: str = spec(as_str, "", required=True, min_length=1)
    tournament: str | None = spec(as_str)
    artifact: str | None = spec(as_str)
    format: Format | None = spec(as_str, after=_check_format)
    features: str | None = spec(as_str)
    sha256: str | None = spec(as_str, after=_check_sha)
    entrypoint: str | None = spec(as_str, after=_check_entrypoint)
    blend: dict[str, float] | None = spec(weights, after=_check_blend)
    data_version: str | None = spec(as_str)
    rank: bool | None = spec(as_bool)
    timeout: float | None = spec(as_float, **_TIMEOUT)
    memory_mb: int | None = spec(as_int, **_MEMORY)
    enabled: bool = spec(as_bool, True)
    strict_model_upload: bool | None = spec(as_bool)


_TOP = ("defaults", "model")


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` is close to one of ``choices``, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def validate_document(
    raw: Mapping[str, Any], path: Path
) -> tuple[ModelDefaults, list[tuple[int, _ModelEntry]], list[str]]:
    """The defaults and the well-formed entries (with their index), and a line for EVERY
    mistake of the others: each part is validated alone, so one wrong entry hides no other."""
    problems: list[str] = []
    for key in raw:
        if key not in _TOP:
            problems.append(
                f"{path}: {key}: unknown table or key{did_you_mean(key, _TOP)}: use "
                "[defaults] and [[model]] entries"
            )
    defaults = ModelDefaults()
    if "defaults" in raw:
        given, wrong = build(ModelDefaults, raw["defaults"], strict=True)
        defaults = given or defaults
        problems += _describe(wrong, f"{path}: [defaults]", ModelDefaults)
    entries: list[tuple[int, _ModelEntry]] = []
    listed = raw.get("model", [])
    if not isinstance(listed, list):
        problems.append(f"{path}: model: write each model as a [[model]] entry")
        listed = []
    for i, item in enumerate(listed):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{path}: model #{i + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
        entry, wrong = build(_ModelEntry, item, strict=True)
        if entry is not None:
            entries.append((i, entry))
        problems += _describe(wrong, where, _ModelEntry)
    return defaults, entries, problems


def _describe(problems: list[Problem], where: str, table: type[Any]) -> list[str]:
    lines = []
    for p in problems:
        fieldname = ".".join(p.loc) or "(entry)"
        msg = p.msg
        if p.extra:
            msg = "unknown field" + did_you_mean(p.loc[-1], field_names(table))
        elif p.loc == ("format",):  # not a string, or not a registered name
            given = str(p.value)
            msg = f"unknown format {given!r}{did_you_mean(given, FORMATS)}: use one of " + (
                ", ".join(FORMATS)
            )
        elif not p.loc:
            msg = "must be a table of fields (name = ..., artifact = ...)"
        lines.append(f"{where}: {fieldname}: {msg}")
    return lines
