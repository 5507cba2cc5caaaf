"""The node kinds of a forest (see ``_forest``), shared by its layouts and walks."""

from __future__ import annotations

import numpy as np

NUM_NONE, NUM_ZERO, NUM_NAN, CATEGORICAL, LEAF = 0, 1, 2, 3, 4
ZERO = float(np.float32(1e-35))  # LightGBM's kZeroThreshold (a float, widened)

__all__ = ["CATEGORICAL", "LEAF", "NUM_NAN", "NUM_NONE", "NUM_ZERO", "ZERO"]
