"""The models file's shape as pydantic validates it (the TOML document, before defaults and
paths are applied), and its validation errors as lines naming the entry and the field."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..models.formats import FORMAT_NAMES
from ._limits import MAX_BLEND_WEIGHT, MAX_MEMORY_MB, MAX_MODEL_TIMEOUT

# The names come from the models package's one registry of formats (see models/formats.py).
FORMATS = FORMAT_NAMES
Format = str


class _Strict(BaseModel):
    # strict: ``rank = "yes"`` or ``memory_mb = 2.0`` is a mistake to report, not to coerce.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ModelDefaults(_Strict):
    tournament: str = "classic"
    data_version: str | None = None
    features: str | None = None
    rank: bool = False
    timeout: float | None = Field(default=None, gt=0, le=MAX_MODEL_TIMEOUT, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, gt=0, le=MAX_MEMORY_MB)
    strict_model_upload: bool = False


class _ModelEntry(_Strict):
    name: str = Field(min_length=1)
    tournament: str | None = None
    artifact: str | None = None
    format: Format | None = None
    features: str | None = None
    sha256: str | None = None
    entrypoint: str | None = None
    blend: dict[str, float] | None = None
    data_version: str | None = None
    rank: bool | None = None
    timeout: float | None = Field(default=None, gt=0, le=MAX_MODEL_TIMEOUT, allow_inf_nan=False)
    memory_mb: int | None = Field(default=None, gt=0, le=MAX_MEMORY_MB)
    enabled: bool = True
    strict_model_upload: bool | None = None

    @field_validator("format")
    @classmethod
    def _check_format(cls, v: str | None) -> str | None:
        if v is not None and v not in FORMATS:
            raise ValueError(f"unknown format: use one of {', '.join(FORMATS)}")
        return v

    @field_validator("sha256")
    @classmethod
    def _check_sha(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", v):
            raise ValueError("must be 64 hexadecimal digits (sha256sum of the artifact)")
        return v.lower() if v else v

    @field_validator("entrypoint")
    @classmethod
    def _check_entrypoint(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[\w.]+:[\w]+", v):
            raise ValueError("must look like 'module:function'")
        return v

    @field_validator("blend")
    @classmethod
    def _check_blend(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None:
            if not v:
                raise ValueError("needs at least one entry name with a weight")
            if not all(math.isfinite(w) and 0 < w <= MAX_BLEND_WEIGHT for w in v.values()):
                bad = ", ".join(f"{k} = {w}" for k, w in v.items() if not 0 < w <= MAX_BLEND_WEIGHT)
                raise ValueError(
                    f"weights must be positive finite numbers up to {MAX_BLEND_WEIGHT:g} "
                    f"(weights are relative): {bad}"
                )
        return v


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
        try:
            defaults = ModelDefaults.model_validate(raw["defaults"])
        except ValidationError as exc:
            problems += _describe(exc, f"{path}: [defaults]", ModelDefaults)
    entries: list[tuple[int, _ModelEntry]] = []
    listed = raw.get("model", [])
    if not isinstance(listed, list):
        problems.append(f"{path}: model: write each model as a [[model]] entry")
        listed = []
    for i, item in enumerate(listed):
        name = item.get("name") if isinstance(item, dict) else None
        where = f"{path}: model #{i + 1}" + (f" ({name!r})" if isinstance(name, str) else "")
        try:
            entries.append((i, _ModelEntry.model_validate(item)))
        except ValidationError as exc:
            problems += _describe(exc, where, _ModelEntry)
    return defaults, entries, problems


def _describe(exc: ValidationError, where: str, model: type[BaseModel]) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        fieldname = ".".join(loc) or "(entry)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field" + did_you_mean(loc[-1], list(model.model_fields))
        elif loc == ["format"]:  # not a string, or not a registered name
            given = str(err.get("input"))
            msg = f"unknown format {given!r}{did_you_mean(given, FORMATS)}: use one of " + (
                ", ".join(FORMATS)
            )
        elif err["type"] in ("model_type", "model_attributes_type", "dict_type") and not loc:
            msg = "must be a table of fields (name = ..., artifact = ...)"
        lines.append(f"{where}: {fieldname}: {msg}")
    return lines
