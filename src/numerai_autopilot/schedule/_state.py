"""What the scheduler remembers between restarts: per tournament, the last round it handled.

A small JSON file in the state dir, written atomically (temp file + ``os.replace``). It only
saves work: a restart that lost it merely runs again, and the run itself submits only what the
API says is missing, so a lost or stale file never causes a second submission.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError
from ..fileio import write_atomic
from ..tournaments import Tournament

log = logging.getLogger(__name__)

STATE_FILE = "schedule.json"
RoundStatus = Literal["running", "done", "gave-up"]


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
    """Per tournament label, the latest round the scheduler worked on; the last run's summary."""

    path: Path
    rounds: dict[str, RoundRecord] = field(default_factory=dict)
    last_run: dict[str, Any] | None = None

    @classmethod
    def load(cls, state_dir: Path) -> ScheduleState:
        """Read ``schedule.json``; a missing file is an empty state, a corrupt one is set aside
        (renamed ``.corrupt``) with a warning: the API's status keeps the runs correct."""
        path = state_dir / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            rounds = {
                str(k): RoundRecord(
                    round=int(v["round"]),
                    status=v["status"],
                    attempts=int(v.get("attempts", 0)),
                    updated=str(v.get("updated", "")),
                )
                for k, v in raw.get("rounds", {}).items()
            }
            return cls(path, rounds, raw.get("last_run"))
        except FileNotFoundError:
            return cls(path)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s is unreadable (%s): starting afresh", path, exc)
            try:
                path.replace(path.with_suffix(".corrupt"))
            except OSError as move_exc:
                raise ConfigError(
                    f"{path}: unreadable and cannot be moved aside: {move_exc}"
                ) from exc
            return cls(path)
        except OSError as exc:
            raise ConfigError(
                f"{path}: cannot read: {exc.strerror} (check NUMERAI_STATE_DIR)"
            ) from exc

    def get(self, tournament: Tournament, round_number: int) -> RoundRecord | None:
        """The record of that round, or None when the scheduler has not worked on it."""
        rec = self.rounds.get(tournament.label)
        return rec if rec is not None and rec.round == round_number else None

    def set(self, tournament: Tournament, record: RoundRecord) -> None:
        self.rounds[tournament.label] = record

    def save(self) -> None:
        """Write atomically; an unwritable state dir is a ConfigError naming it."""
        doc = {
            "version": 1,
            "rounds": {k: asdict(v) for k, v in sorted(self.rounds.items())},
            "last_run": self.last_run,
        }
        try:
            write_atomic(self.path, json.dumps(doc, indent=1))
        except OSError as exc:
            raise ConfigError(
                f"{self.path}: cannot write the schedule state: {exc.strerror} "
                "(set NUMERAI_STATE_DIR to a writable folder)"
            ) from exc
