"""The ledger: an SQLite record of runs and of each model's outcome per round.

Like a cron monitor: a run has an id, a start and an end; each model's step is written in the
same transaction as its outcome, so a killed run leaves a consistent record of what it did.
The ledger never holds a secret; the API stays the truth about what was submitted, the ledger
says what this tool did and why.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ConfigError
from ._ledger_rows import OUTCOME_COLUMNS as _OUTCOME_COLUMNS
from ._ledger_rows import OutcomeRow, RunRow
from ._ledger_rows import json_or_empty as _json
from ._ledger_rows import outcome as _outcome
from ._ledger_schema import migrate

__all__ = ["Ledger", "OutcomeRow", "RunRow"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Ledger:
    """Runs and outcomes in ``<state dir>/ledger.sqlite``. Safe to open from several processes."""

    FILENAME = "ledger.sqlite"

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / self.FILENAME
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            migrate(self._db, self.path)
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(
                f"cannot open the ledger {self.path}: {exc}; check NUMERAI_STATE_DIR / "
                "NUMERAI_DATA_DIR points to a writable directory"
            ) from exc

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def start_run(self, command: str, trigger_id: str | None = None) -> str:
        """Record a run's start and return its id."""
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (id, started_at, command, trigger_id) VALUES (?, ?, ?, ?)",
                (run_id, _now(), command, trigger_id),
            )
        return run_id

    def finish_run(
        self,
        run_id: str,
        exit_code: int,
        summary: Mapping[str, int],
        timings: Mapping[str, float],
        error: str | None = None,
    ) -> None:
        """Record a run's end with its real exit code (and, when it stopped before reporting
        on its models, the error that stopped it)."""
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET finished_at = ?, exit_code = ?, summary = ?, timings = ?, "
                "error = ? WHERE id = ?",
                (
                    _now(),
                    exit_code,
                    json.dumps(dict(summary)),
                    json.dumps(dict(timings)),
                    error,
                    run_id,
                ),
            )

    def record(
        self,
        run_id: str,
        model: str,
        *,
        tournament: int,
        round_number: int | None,
        stage: str,
        status: str,
        model_id: str | None = None,
        error: str | None = None,
        submission_id: str | None = None,
        checksum: str | None = None,
        timings: Mapping[str, float] | None = None,
        late: bool = False,
        output: str | None = None,
    ) -> None:
        """Insert or update one model's outcome in this run (one transaction)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO outcomes (run_id, model, model_id, tournament, round, stage, status,"
                " error, submission_id, checksum, timings, updated_at, late,"
                " output) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(run_id, model) DO UPDATE SET model_id = excluded.model_id,"
                " round = excluded.round, stage = excluded.stage, status = excluded.status,"
                " error = excluded.error,"
                " submission_id = COALESCE(excluded.submission_id, outcomes.submission_id),"
                " checksum = COALESCE(excluded.checksum, outcomes.checksum),"
                " timings = excluded.timings, updated_at = excluded.updated_at,"
                " late = excluded.late,"
                " output = COALESCE(excluded.output, outcomes.output)",
                (
                    run_id,
                    model,
                    model_id,
                    tournament,
                    round_number,
                    stage,
                    status,
                    error,
                    submission_id,
                    checksum,
                    json.dumps(dict(timings or {})),
                    _now(),
                    int(late),
                    output,
                ),
            )

    def runs(self, limit: int = 20) -> list[RunRow]:
        cur = self._db.execute(
            "SELECT id, started_at, finished_at, command, trigger_id, exit_code, summary, timings,"
            " error FROM runs ORDER BY started_at DESC LIMIT ?",
            (limit,),
        )
        return [
            RunRow(r[0], r[1], r[2], r[3], r[4], r[5], _json(r[6]), _json(r[7]), r[8])
            for r in cur.fetchall()
        ]

    def outcomes(
        self,
        *,
        run_id: str | None = None,
        model: str | None = None,
        round_number: int | None = None,
        limit: int = 200,
    ) -> list[OutcomeRow]:
        where, args = [], []
        for col, val in (("run_id", run_id), ("model", model), ("round", round_number)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        # Only the fixed column names above are formatted in; values are bound parameters.
        sql = (
            f"SELECT {_OUTCOME_COLUMNS} FROM outcomes"  # noqa: S608
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY updated_at DESC LIMIT ?"
        )
        cur = self._db.execute(sql, (*args, limit))
        return [_outcome(r) for r in cur.fetchall()]

    def round_outcomes(self, tournament: int, first: int, last: int) -> list[OutcomeRow]:
        """Every outcome runs recorded for rounds ``first``..``last`` of ``tournament``, oldest
        first, except the "skipped" rows idle runs leave (they say nothing about a round) and
        the rows of ``models check`` (which never submits)."""
        cols = ", ".join(f"o.{c.strip()}" for c in _OUTCOME_COLUMNS.split(","))
        # `models check` rows are not submission attempts: joined out by their run's command.
        cur = self._db.execute(
            f"SELECT {cols} FROM outcomes o JOIN runs r ON r.id = o.run_id"  # noqa: S608
            " WHERE o.tournament = ? AND o.round BETWEEN ? AND ? AND o.status != 'skipped'"
            " AND r.command != 'check' ORDER BY o.updated_at",
            (tournament, first, last),
        )
        return [_outcome(r) for r in cur.fetchall()]

    def newest_rounds(self) -> dict[int, int]:
        """Per tournament, the newest round the ledger has a non-skipped outcome for."""
        cur = self._db.execute(
            "SELECT o.tournament, MAX(o.round) FROM outcomes o JOIN runs r ON r.id = o.run_id"
            " WHERE o.round IS NOT NULL AND o.status != 'skipped' AND r.command != 'check'"
            " GROUP BY o.tournament"
        )
        return {int(t): int(r) for t, r in cur.fetchall()}

    def schedule_rounds(self) -> dict[str, tuple[int, str, int, str]]:
        """The scheduler's state: per tournament label, (round, status, attempts, updated)."""
        cur = self._db.execute(
            "SELECT tournament, round, status, attempts, updated FROM schedule_rounds"
        )
        return {str(r[0]): (int(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in cur.fetchall()}

    def set_schedule_rounds(self, rows: Mapping[str, tuple[int, str, int, str]]) -> None:
        """Replace the scheduler's state with ``rows`` (one transaction)."""
        with self._tx() as db:
            db.execute("DELETE FROM schedule_rounds")
            db.executemany(
                "INSERT INTO schedule_rounds (tournament, round, status, attempts, updated)"
                " VALUES (?, ?, ?, ?, ?)",
                [(t, *row) for t, row in sorted(rows.items())],
            )

    def watch_alerted(self, model_id: str, tournament: int, round_number: int) -> bool:
        """Whether `watch` already alerted about this model in this round."""
        row = self._db.execute(
            "SELECT 1 FROM watch_alerts WHERE model_id = ? AND tournament = ? AND round = ?",
            (model_id, tournament, round_number),
        ).fetchone()
        return row is not None

    def record_watch_alert(
        self, model_id: str, model: str, tournament: int, round_number: int
    ) -> None:
        """Remember that `watch` alerted about this model in this round (one transaction)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO watch_alerts (model_id, tournament, round, model, "
                "alerted_at) VALUES (?, ?, ?, ?, ?)",
                (model_id, tournament, round_number, model, _now()),
            )

    def last_outcome(self, model: str, round_number: int) -> OutcomeRow | None:
        """The newest outcome recorded for ``model`` in ``round_number``, if any."""
        rows = self.outcomes(model=model, round_number=round_number, limit=1)
        return rows[0] if rows else None
