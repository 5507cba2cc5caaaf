"""The scheduler's per-round state as the ledger holds it, shaped as the old schedule.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from numerai_autopilot.run.ledger import Ledger

FIELDS = ("round", "status", "attempts", "updated")


def schedule_state(state_dir: Path) -> dict[str, Any]:
    """``{"rounds": {label: {round, status, attempts, updated}}}`` from the ledger."""
    with Ledger(state_dir) as ledger:
        rows = ledger.schedule_rounds()
    return {"rounds": {t: dict(zip(FIELDS, row, strict=True)) for t, row in rows.items()}}
