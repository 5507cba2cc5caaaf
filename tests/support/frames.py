"""Tiny synthetic Numerai-like frames, and ModelSpecs for artifacts made from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from numerai_autopilot.config import ModelSpec
from numerai_autopilot.tournaments import Tournament

FEATURES = [f"feature_{w}" for w in ("amber", "birch", "cedar", "dune", "ember", "fjord")]


def make_frame(
    rows: int, seed: int, features: list[str] = FEATURES, *, meta: bool = True
) -> pd.DataFrame:
    """int8 features in 0..4 indexed by Numerai-like ids (the same for the same seed), with the
    era/data_type columns unless ``meta`` is false (a model's view: features only)."""
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"n{seed:03d}{i:012x}" for i in range(rows)], name="id")
    frame = pd.DataFrame(
        rng.integers(0, 5, size=(rows, len(features))).astype(np.int8), index=ids, columns=features
    )
    if meta:
        frame.insert(0, "era", "X")
        frame.insert(1, "data_type", "live")
    return frame


def target_of(frame: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A target that depends on several features unequally, so column order matters."""
    x = frame[FEATURES].to_numpy(dtype=np.float64)
    raw = 0.5 * x[:, 0] + 0.3 * x[:, 1] - 0.2 * x[:, 2] + 0.1 * x[:, 3] * x[:, 4]
    out: np.ndarray[Any, np.dtype[np.float64]] = np.clip(
        (raw - raw.min()) / (raw.max() - raw.min()), 0, 1
    )
    return out


def spec_for(name: str, artifact: Path | None, **kw: Any) -> ModelSpec:
    return ModelSpec(
        name=name,
        tournament=kw.pop("tournament", Tournament.CLASSIC),
        format=kw.pop("format", None),
        artifact=artifact,
        **kw,
    )
