"""The ledger's schema, versioned: ``PRAGMA user_version`` is the number of steps applied, and
each step of :data:`MIGRATIONS` runs once, in order, in its own transaction. Only ever append a
step; never edit one that has shipped (a user's ledger has already run it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import ConfigError

_BASE_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL,
    trigger_id TEXT,
    exit_code INTEGER,
    summary TEXT,
    timings TEXT
)""",
    """CREATE TABLE IF NOT EXISTS outcomes (
    run_id TEXT NOT NULL REFERENCES runs(id),
    model TEXT NOT NULL,
    model_id TEXT,
    tournament INTEGER NOT NULL,
    round INTEGER,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    submission_id TEXT,
    checksum TEXT,
    timings TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, model)
)""",
    "CREATE INDEX IF NOT EXISTS outcomes_by_model ON outcomes(model, round)",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the first schema. IF NOT EXISTS: ledgers written before versioning (user_version 0)
    # already have these tables and pass through unchanged.
    _BASE_SCHEMA,
    # 2: a run that failed before reporting on any model keeps its error; late uploads are
    # marked (Numerai counts them as late).
    (
        "ALTER TABLE runs ADD COLUMN error TEXT",
        "ALTER TABLE outcomes ADD COLUMN late INTEGER NOT NULL DEFAULT 0",
    ),
    # 3: the scheduler's per-round state (was schedule.json): one store of run history.
    (
        """CREATE TABLE IF NOT EXISTS schedule_rounds (
    tournament TEXT PRIMARY KEY,
    round INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL DEFAULT ''
)""",
    ),
    # 4: `watch`'s alerts, at most one per model per round (the account's models, configured
    # here or not: keyed by the API's model id).
    (
        """CREATE TABLE IF NOT EXISTS watch_alerts (
    model_id TEXT NOT NULL,
    tournament INTEGER NOT NULL,
    round INTEGER NOT NULL,
    model TEXT NOT NULL,
    alerted_at TEXT NOT NULL,
    PRIMARY KEY (model_id, tournament, round)
)""",
    ),
    # 5: what a model printed while predicting (bounded: see run/_capture.py).
    ("ALTER TABLE outcomes ADD COLUMN output TEXT",),
)
"""Ordered schema steps; ``PRAGMA user_version`` is the number applied. Only ever append."""


def migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring ``db`` (autocommit mode) to the newest schema."""
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise ConfigError(
            f"the ledger {path} was written by a newer numerai-autopilot (schema "
            f"{version}, this one knows {len(MIGRATIONS)}): upgrade, or point "
            "NUMERAI_STATE_DIR elsewhere"
        )
    for number, statements in enumerate(MIGRATIONS[version:], version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied this step while we waited for the lock.
            if int(db.execute("PRAGMA user_version").fetchone()[0]) < number:
                for sql in statements:
                    db.execute(sql)
                db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
