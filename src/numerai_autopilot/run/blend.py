"""Blends: a weighted mean of other entries' ranked predictions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import PredictionInvalidError


def tie_kept_rank(values: pd.Series) -> pd.Series:
    """Percentile rank centred in (0, 1), ties sharing their average rank.

    Equals numerai-tools' ``tie_kept_rank`` (``(rank - 0.5) / count``) without its need for a
    sorted index: a rank does not depend on the row order.
    """
    ranked = (values.rank(method="average") - 0.5) / values.count()
    return ranked.astype(np.float64)


def blend(components: Mapping[str, pd.Series], weights: Mapping[str, float]) -> pd.Series:
    """Rank each component to (0, 1), then take the weighted mean, aligned by id.

    The result is indexed like the first weighted component. Raises PredictionInvalidError
    when a component is missing, has NaN values or duplicate ids, or covers other ids than
    the others, or when a weight is not positive.
    """
    if not weights:
        raise PredictionInvalidError("a blend needs at least one component with a weight")
    missing = [name for name in weights if name not in components]
    if missing:
        raise PredictionInvalidError(f"blend lacks predictions of {', '.join(missing)}")
    bad_weights = [name for name, w in weights.items() if not (np.isfinite(w) and w > 0)]
    if bad_weights:
        raise PredictionInvalidError(f"blend weights must be positive: {', '.join(bad_weights)}")
    names = list(weights)
    index = components[names[0]].index
    total = pd.Series(0.0, index=index, dtype=np.float64)
    for name in names:
        series = components[name]
        _check_component(name, series, names[0], index)
        total += weights[name] * tie_kept_rank(series.astype(np.float64)).reindex(index)
    out = total / float(sum(weights.values()))
    out.name = "prediction"
    return out


def _check_component(name: str, series: pd.Series, first: str, index: pd.Index) -> None:
    if series.index.has_duplicates:
        raise PredictionInvalidError(f"blend component {name!r} has duplicate ids")
    nan = int(series.isna().sum())
    if nan:
        raise PredictionInvalidError(f"blend component {name!r} has {nan} NaN predictions")
    if series.index.equals(index):
        return
    extra = len(series.index.difference(index))
    lacking = len(index.difference(series.index))
    if extra or lacking:
        raise PredictionInvalidError(
            f"blend component {name!r} covers other ids than {first!r}: "
            f"{lacking} of its ids missing, {extra} ids it has that {first!r} lacks"
        )
