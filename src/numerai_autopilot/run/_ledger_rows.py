"""The ledger's rows as Python reads them: a model's outcome, a run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OutcomeRow:
    run_id: str
    model: str
    model_id: str | None
    tournament: int
    round: int | None
    stage: str
    status: str
    error: str | None
    submission_id: str | None
    checksum: str | None
    timings: dict[str, float]
    updated_at: str
    late: bool = False
    output: str | None = None
    """What the model printed while predicting (bounded), if anything."""


@dataclass(frozen=True)
class RunRow:
    id: str
    started_at: str
    finished_at: str | None
    command: str
    trigger_id: str | None
    exit_code: int | None
    summary: dict[str, int]
    timings: dict[str, float]
    error: str | None = None
    """Why a run failed before it could report on each model (settings, key, API down)."""

    @property
    def failed(self) -> bool:
        return self.exit_code is None or self.exit_code not in (0, 3)

    @property
    def result(self) -> str:
        """The run as a person reads it: ok, idle (no round open), locked, interrupted,
        failed, or running (not finished)."""
        if self.finished_at is None:
            return "running"
        code = self.exit_code if self.exit_code is not None else -1
        return {0: "ok", 3: "idle", 4: "locked", 130: "interrupted"}.get(code, "failed")


OUTCOME_COLUMNS = (
    "run_id, model, model_id, tournament, round, stage, status, error, submission_id,"
    " checksum, timings, updated_at, late, output"
)


def outcome(r: Any) -> OutcomeRow:
    """An ``outcomes`` row selected as OUTCOME_COLUMNS."""
    timings, late = json_or_empty(r[10]), bool(r[12])
    return OutcomeRow(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], timings, r[11], late, r[13]
    )


def json_or_empty(text: str | None) -> Any:
    return json.loads(text) if text else {}
