"""The old home of these helpers (now in support.frames):
tests elsewhere may still import them from ``model_factories``."""

from __future__ import annotations

from support.frames import FEATURES, make_frame, spec_for, target_of

__all__ = ["FEATURES", "make_frame", "spec_for", "target_of"]
