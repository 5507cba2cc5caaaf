"""The old home of these helpers (now in support.workshop and support.rig):
tests elsewhere may still import them from ``e2e_support``."""

from __future__ import annotations

from support.rig import env_for, settings_for
from support.workshop import ArtifactCache, C, Entry, K, S, Workshop

__all__ = ["ArtifactCache", "C", "Entry", "K", "S", "Workshop", "env_for", "settings_for"]
