"""The models file's shape as pydantic validates it (the TOML document, before defaults and
paths are applied), and its validation errors as lines naming the entry and the field."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._limits import MAX_BLEND_WEIGHT, MAX_MEMORY_MB, MAX_MODEL_TIMEOUT

FORMATS = (
    "pickle",  # pickle/joblib/cloudpickle: an sklearn-API estimator or a Model Upload function
    "joblib",
    "function",  # a cloudpickled Model Upload predict(live_features[, live_benchmark_models])
    "lightgbm",  # LightGBM text model
    "xgboost",  # XGBoost .json / .ubj
    "catboost",  # CatBoost .cbm
    "onnx",
    "entrypoint",  # "module:function" importable from the models dir
    "predictions",  # a ready predictions file (csv/parquet)
    "blend",  # weighted blend of other entries
)
Format = Literal[
    "pickle",
    "joblib",
    "function",
    "lightgbm",
    "xgboost",
    "catboost",
    "onnx",
    "entrypoint",
    "predictions",
    "blend",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class _ModelsFile(_Strict):
    defaults: ModelDefaults = ModelDefaults()
    model: list[_ModelEntry] = Field(default_factory=list)


def _describe_models_error(exc: ValidationError, raw: Mapping[str, Any], path: Path) -> str:
    lines = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = str(path)
        if len(loc) >= 2 and loc[0] == "model" and isinstance(loc[1], int):
            idx = loc[1]
            entries = raw.get("model")
            name = None
            if isinstance(entries, list) and idx < len(entries) and isinstance(entries[idx], dict):
                name = entries[idx].get("name")
            where += f": model #{idx + 1}" + (f" ({name!r})" if name else "")
            loc = loc[2:]
        elif loc and loc[0] == "defaults":
            where += ": [defaults]"
            loc = loc[1:]
        fieldname = ".".join(str(p) for p in loc) or "(entry)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (typo?)"
        elif err["type"] == "literal_error":
            msg = f"unknown format: use one of {', '.join(FORMATS)}"
        lines.append(f"{where}: {fieldname}: {msg}")
    return "invalid models file:\n  " + "\n  ".join(lines)
