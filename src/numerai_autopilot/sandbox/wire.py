"""Small pure helpers of the HTTP layer: byte ranges and answer drift."""

from __future__ import annotations

from typing import Any

# What the ``missing_fields`` fault removes by default: fields Numerai has dropped before.
DRIFT_FIELDS = ("closeStakingTime", "roundCloseStaking", "tournament", "status")


def strip_fields(value: Any, fields: set[str]) -> Any:
    """``value`` with every dict key in ``fields`` removed, at any depth."""
    if isinstance(value, dict):
        return {k: strip_fields(v, fields) for k, v in value.items() if k not in fields}
    if isinstance(value, list):
        return [strip_fields(v, fields) for v in value]
    return value


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """Parse ``bytes=a-b``, ``a-`` or ``-n`` into inclusive (start, end); None: unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            start, end = max(0, size - int(last)), size - 1
        else:
            start = int(first)
            end = min(int(last), size - 1) if last else size - 1
    except ValueError:
        return None
    if start >= size or start > end:
        return None
    return start, end
