"""Durations as users write them in settings: ``900``, ``90s``, ``15m``, ``1.5h``."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$", re.IGNORECASE)
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_seconds(value: object) -> object:
    """Seconds from a duration string; anything else is returned for the field to check.
    ValueError (with what to write) for a string that is not a duration."""
    if not isinstance(value, str):
        return value
    m = _DURATION.match(value)
    if m is None:
        raise ValueError("must be a duration such as 900, 90s, 15m or 1h")
    return float(m.group(1)) * _UNIT[m.group(2).lower()]
