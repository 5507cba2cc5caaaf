"""The one test a compiled model passes before it is used: it agrees with LightGBM."""

from __future__ import annotations

from typing import Any

import numpy as np

TOLERANCE = 1e-9  # max abs difference allowed (lleaves measured 6e-15 on the example model)


def disagreement(expected: np.ndarray[Any, Any], got: np.ndarray[Any, Any]) -> str | None:
    """Why ``got`` (compiled) is not ``expected`` (LightGBM) on the same rows, or None.

    Equal ranks means the same order and the same ties: Numerai ranks predictions, so one
    broken tie changes a submission even when every value is within the tolerance."""
    if got.shape != expected.shape:
        return f"{got.shape} predictions where LightGBM gives {expected.shape}"
    if not np.isfinite(got).all():
        return "non-finite predictions"
    diff = float(np.max(np.abs(got - expected))) if len(got) else 0.0
    if not diff < TOLERANCE:
        return f"max abs difference {diff:.3g} to LightGBM (allowed {TOLERANCE:g})"
    order = np.argsort(expected, kind="stable")
    e, g = expected[order], got[order]
    if (np.diff(g) < 0).any() or not np.array_equal(np.diff(e) == 0, np.diff(g) == 0):
        return "ranks differ from LightGBM's"
    return None


def with_missing(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The sample plus a copy of its first rows with every third value missing, so that the
    verification walks the NaN branches even when the live rows have none."""
    extra = x[: min(64, len(x))].copy()
    if extra.size:
        flat = extra.reshape(-1)
        flat[::3] = np.nan
    return np.vstack([x, extra]) if len(x) else x
