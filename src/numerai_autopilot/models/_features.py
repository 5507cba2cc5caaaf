"""Which features a model uses, and selecting them from the live frame in the model's order.

Order matters: LightGBM predicts wrong values, silently, when columns are reordered, so every
loader passes exactly the model's stored list, in its order.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, MissingFeatureError, ModelError

if TYPE_CHECKING:  # the registry's import by config reaches here: no config, no pandas
    import pandas as pd

    from ..config import ModelSpec

log = logging.getLogger(__name__)

FEATURE_PREFIX = "feature_"
# Names libraries invent when a model was trained on a bare array: they carry no meaning, the
# columns are matched by position instead (LightGBM Column_0, XGBoost f0, CatBoost "0").
_PLACEHOLDER = re.compile(r"(Column_|f|x)?\d+")
# LightGBM text models keep their header in the first few dozen lines.
_HEADER_LINES = 200


def is_placeholder(names: Sequence[str]) -> bool:
    """True when every name is a library-invented positional name (Column_3, f3, 3)."""
    return all(_PLACEHOLDER.fullmatch(n) for n in names)


def real_names(names: Sequence[object] | None) -> list[str] | None:
    """``names`` as a list of strings, or None when absent, empty or only placeholders."""
    if names is None:
        return None
    out = [str(n) for n in names]
    if not out or is_placeholder(out):
        return None
    return out


def names_feature_set(spec: ModelSpec) -> bool:
    """Whether the entry's ``features`` is a feature set of features.json (not a file of
    names, not unset): only then does the model need features.json."""
    value = spec.features
    return value is not None and "/" not in value and not value.endswith((".json", ".txt"))


def configured_features(
    spec: ModelSpec, feature_sets: Mapping[str, list[str]] | None
) -> list[str] | None:
    """``spec.features`` resolved: a feature set of features.json, or a file listing features
    (a JSON list, or one name per line). None when the entry names no features."""
    value = spec.features
    if value is None:
        return None
    if not names_feature_set(spec):
        return _read_feature_file(spec, Path(value))
    if feature_sets is None:
        raise ConfigError(
            f"model {spec.name!r}: features {value!r} is a feature set name, but no "
            "features.json was loaded for its data version"
        )
    if value not in feature_sets:
        known = ", ".join(sorted(feature_sets)[:20])
        close = difflib.get_close_matches(value, list(feature_sets), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"model {spec.name!r}: features: no feature set {value!r} in features.json"
            f"{hint} (known: {known})"
        )
    return list(feature_sets[value])


def _read_feature_file(spec: ModelSpec, path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"model {spec.name!r}: features: cannot read {path}: {exc.strerror}"
        ) from exc
    except UnicodeDecodeError as exc:
        # A ValueError, not an OSError: uncaught it would stop every model, not this one.
        raise ConfigError(
            f"model {spec.name!r}: features: {path} is not UTF-8 text (byte "
            f"{exc.object[exc.start]:#04x} at offset {exc.start})"
        ) from None
    if path.suffix == ".json" or text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"model {spec.name!r}: features: {path} is not JSON: {exc}") from exc
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise ConfigError(
                f"model {spec.name!r}: features: {path} must hold a JSON list of names"
            )
        names = data
    else:
        names = [ln.strip() for ln in text.splitlines()]
        names = [n for n in names if n and not n.startswith("#")]
    if not names:
        raise ConfigError(f"model {spec.name!r}: features: {path} lists no features")
    return names


def lightgbm_header_features(path: Path) -> list[str] | None:
    """The ``feature_names=`` line of a LightGBM text model, read without LightGBM."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if line.startswith("feature_names="):
                    return line.rstrip("\r\n").split("=", 1)[1].split(" ")
                if i >= _HEADER_LINES or line.startswith("Tree="):
                    break
    except OSError:
        return None
    return None


def xgboost_json_features(path: Path) -> list[str] | None:
    """``learner.feature_names`` of an XGBoost JSON model, read without XGBoost."""
    try:
        with path.open("rb") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    learner = doc.get("learner") if isinstance(doc, dict) else None
    names = learner.get("feature_names") if isinstance(learner, dict) else None
    return names if isinstance(names, list) else None


def choose_features(
    spec: ModelSpec,
    stored: Sequence[object] | None,
    feature_sets: Mapping[str, list[str]] | None,
    live_columns: Sequence[str],
    n_expected: int | None = None,
) -> list[str]:
    """The columns to feed the model, in order: its own stored names, else the configured
    features, else every ``feature_*`` column of the live frame.

    ``n_expected`` (the model's input width, when known) is checked against the choice.
    """
    own = real_names(stored)
    configured = configured_features(spec, feature_sets)
    if own is not None:
        if configured is not None and configured != own:
            log.debug("model %s: using its own %d stored features", spec.name, len(own))
        chosen, source = own, "its stored feature names"
    elif configured is not None:
        chosen, source = configured, f"features = {spec.features!r}"
    else:
        chosen = [c for c in live_columns if str(c).startswith(FEATURE_PREFIX)]
        source = "every feature_* column of the live data"
    if n_expected is not None and len(chosen) != n_expected:
        raise ModelError(
            f"model {spec.name!r} takes {n_expected} features but {source} gives "
            f"{len(chosen)}: set 'features' to the list it was trained on, in order"
        )
    return chosen


def select(spec: ModelSpec, live: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """``live[names]`` in exactly that order; MissingFeatureError naming a few when absent."""
    present = set(live.columns)
    missing = [n for n in names if n not in present]
    if missing:
        few = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise MissingFeatureError(
            f"model {spec.name!r}: the live data lacks {len(missing)} of its {len(names)} "
            f"features ({few}); is the data version right, or the 'features' setting?"
        )
    return live.loc[:, list(names)]
