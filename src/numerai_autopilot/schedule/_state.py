"""What the scheduler remembers between restarts: per tournament, the last round it handled.

Kept in the ledger (table ``schedule_rounds``), beside the runs it started: one store of run
history. It only saves work: a restart that lost it merely runs again, and the run itself
submits only what the API says is missing, so a lost or stale record never causes a second
submission. A ``schedule.json`` left by an older version is read once into the ledger and
renamed ``schedule.json.migrated``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from ..errors import ConfigError
from ..run.ledger import Ledger
from ..tournaments import Tournament

log = logging.getLogger(__name__)

LEGACY_FILE = "schedule.json"
RoundStatus = Literal["running", "done", "gave-up"]
_STATUSES = ("running", "done", "gave-up")


@dataclass
class RoundRecord:
    """The scheduler's view of one round of one tournament."""

    round: int
    status: RoundStatus
    attempts: int = 0
    """Runs started for this round (failed ones are retried with backoff)."""
    updated: str = ""


@dataclass
class ScheduleState:
    """Per tournament label, the latest round the scheduler worked on."""

    state_dir: Path
    rounds: dict[str, RoundRecord] = field(default_factory=dict)

    @classmethod
    def load(cls, state_dir: Path) -> ScheduleState:
        """Read the ledger's record (ConfigError naming the state dir when it cannot be
        opened), importing a legacy ``schedule.json`` first if there is one."""
        with Ledger(state_dir) as ledger:
            stored = ledger.schedule_rounds()
            legacy = state_dir / LEGACY_FILE
            if not stored and legacy.exists():
                stored = _import_legacy(legacy)
                ledger.set_schedule_rounds(stored)
        rounds = {
            t: RoundRecord(number, cast(RoundStatus, status), attempts, updated)
            for t, (number, status, attempts, updated) in stored.items()
            if status in _STATUSES
        }
        return cls(state_dir, rounds)

    def get(self, tournament: Tournament, round_number: int) -> RoundRecord | None:
        """The record of that round, or None when the scheduler has not worked on it."""
        rec = self.rounds.get(tournament.label)
        return rec if rec is not None and rec.round == round_number else None

    def set(self, tournament: Tournament, record: RoundRecord) -> None:
        self.rounds[tournament.label] = record

    def save(self) -> None:
        """Write every record in one ledger transaction; an unwritable state dir is a
        ConfigError naming it."""
        rows = {t: (r.round, r.status, r.attempts, r.updated) for t, r in self.rounds.items()}
        with Ledger(self.state_dir) as ledger:
            ledger.set_schedule_rounds(rows)


def _import_legacy(path: Path) -> dict[str, tuple[int, str, int, str]]:
    """The rounds of an older version's ``schedule.json``; unreadable, it is merely set
    aside (the API's status keeps the runs correct). Either way it is renamed, never read
    again."""
    rows: dict[str, tuple[int, str, int, str]] = {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        for label, v in raw.get("rounds", {}).items():
            rows[str(label)] = (
                int(v["round"]),
                str(v["status"]),
                int(v.get("attempts", 0)),
                str(v.get("updated", "")),
            )
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        log.warning("%s is unreadable (%s): starting afresh", path, exc)
        rows = {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror} (check NUMERAI_STATE_DIR)") from exc
    try:
        path.replace(path.with_name(path.name + ".migrated"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be moved aside: {exc.strerror}") from exc
    log.info("%s: %d round(s) moved into the ledger", path, len(rows))
    return rows
