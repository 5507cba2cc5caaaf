"""The old home of these helpers (now in support.clocks, support.workshop and support.rig):
tests elsewhere may still import them from ``schedule_support``."""

from __future__ import annotations

from support.clocks import JumpClock
from support.rig import env_for, settings_for
from support.schedule_models import flaky, slow
from support.workshop import C, Workshop

__all__ = ["C", "JumpClock", "Workshop", "env_for", "flaky", "settings_for", "slow"]
