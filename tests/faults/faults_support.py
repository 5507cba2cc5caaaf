"""The old home of these helpers (now in support.rig and support.invariants):
tests elsewhere may still import them from ``faults_support``."""

from __future__ import annotations

from support.invariants import check_invariants, iter_lines, reference, submissions_count
from support.receiver import HC_TOKEN, NOTIFY_TOKEN, Receiver, Result
from support.rig import CLASSIC, DRIVER, Rig

__all__ = [
    "CLASSIC",
    "DRIVER",
    "HC_TOKEN",
    "NOTIFY_TOKEN",
    "Receiver",
    "Result",
    "Rig",
    "check_invariants",
    "iter_lines",
    "reference",
    "submissions_count",
]
