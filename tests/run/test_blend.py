"""Blends: ranked components, weighted mean, aligned by id; mismatches refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import PredictionInvalidError
from numerai_autopilot.run.blend import blend


def series(values: list[float], ids: list[str]) -> pd.Series:
    return pd.Series(values, index=pd.Index(ids, name="id"))


def test_blend_is_the_weighted_mean_of_ranks_aligned_by_id() -> None:
    a = series([10.0, 20.0, 30.0, 40.0], ["w", "x", "y", "z"])
    b = series([0.9, 0.1, 0.2, 0.3], ["w", "x", "y", "z"]).iloc[::-1]  # another order
    out = blend({"a": a, "b": b}, {"a": 3.0, "b": 1.0})
    ranks_a = np.array([0.125, 0.375, 0.625, 0.875])
    ranks_b = np.array([0.875, 0.125, 0.375, 0.625])
    np.testing.assert_allclose(out.to_numpy(), (3 * ranks_a + ranks_b) / 4)
    assert list(out.index) == ["w", "x", "y", "z"]
    assert out.between(0, 1, inclusive="neither").all()


def test_scale_of_a_component_does_not_matter() -> None:
    a = series([1.0, 2.0, 3.0], ["x", "y", "z"])
    b = series([0.3, 0.1, 0.2], ["x", "y", "z"])
    pd.testing.assert_series_equal(
        blend({"a": a, "b": b}, {"a": 1, "b": 1}),
        blend({"a": a * 1000, "b": b}, {"a": 1, "b": 1}),
    )


def test_components_with_other_ids_are_refused() -> None:
    a = series([1.0, 2.0, 3.0], ["x", "y", "z"])
    b = series([1.0, 2.0, 3.0], ["x", "y", "q"])
    with pytest.raises(PredictionInvalidError, match="'b' covers other ids than 'a'"):
        blend({"a": a, "b": b}, {"a": 1, "b": 1})


def test_missing_component_nan_and_bad_weights_are_refused() -> None:
    a = series([1.0, 2.0, 3.0], ["x", "y", "z"])
    with pytest.raises(PredictionInvalidError, match="lacks predictions of b"):
        blend({"a": a}, {"a": 1, "b": 1})
    with pytest.raises(PredictionInvalidError, match="1 NaN"):
        blend({"a": a, "n": series([1.0, np.nan, 2.0], ["x", "y", "z"])}, {"a": 1, "n": 1})
    with pytest.raises(PredictionInvalidError, match="must be positive: a"):
        blend({"a": a}, {"a": 0.0})
