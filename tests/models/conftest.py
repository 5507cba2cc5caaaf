"""Fixtures: a small training frame and a live frame (helpers live in model_factories)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from support.frames import FEATURES, make_frame, target_of


@pytest.fixture(scope="session")
def train() -> tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.float64]]]:
    frame = make_frame(400, seed=1)
    return frame[FEATURES], target_of(frame)


@pytest.fixture
def live() -> pd.DataFrame:
    frame = make_frame(60, seed=2)
    frame["feature_unused"] = np.int8(3)  # the live data has more features than the models use
    return frame
