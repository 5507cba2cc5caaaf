"""Bounds of the numbers a user sets, shared by the settings and the models file."""

from __future__ import annotations

# Bounds of the numbers a user sets. A value past them is a typo, and would fail later, far
# from its cause, blamed on the model: setrlimit overflows (OverflowError) on a memory bound
# past a C long, a wait on a huge timeout overflows threading.TIMEOUT_MAX, and a huge blend
# weight makes the weighted sum inf.
MAX_MEMORY_MB = 1024 * 1024
"""1 TiB: more than any machine a run is on; the worker's memory bound (RLIMIT_DATA)."""
MAX_MODEL_TIMEOUT = 7 * 24 * 3600.0
"""A week in seconds: no round stays open that long (the longest window is about 26 h)."""
MAX_HTTP_TIMEOUT = 3600.0
"""An hour per HTTP read: a round's whole window."""
MAX_BLEND_WEIGHT = 1e6
"""Weights are relative: a ratio of a million already makes the smaller one noise."""
