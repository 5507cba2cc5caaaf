"""The ledger's schema is versioned (PRAGMA user_version) and migrated in order, so a new
column never breaks a ledger a user already has."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from numerai_autopilot.errors import ConfigError
from numerai_autopilot.run import ledger as ledger_module
from numerai_autopilot.run.ledger import MIGRATIONS, Ledger

# The schema as the first released version wrote it, before there was a user_version.
_UNVERSIONED = """
CREATE TABLE runs (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
    command TEXT NOT NULL, trigger_id TEXT, exit_code INTEGER, summary TEXT, timings TEXT);
CREATE TABLE outcomes (run_id TEXT NOT NULL REFERENCES runs(id), model TEXT NOT NULL,
    model_id TEXT, tournament INTEGER NOT NULL, round INTEGER, stage TEXT NOT NULL,
    status TEXT NOT NULL, error TEXT, submission_id TEXT, checksum TEXT, timings TEXT,
    updated_at TEXT NOT NULL, PRIMARY KEY (run_id, model));
INSERT INTO runs VALUES ('old-run', '2026-01-06T12:00:00+00:00', '2026-01-06T12:01:00+00:00',
    'run', NULL, 0, '{"submitted": 1}', '{"total": 60.0}');
INSERT INTO outcomes VALUES ('old-run', 'anas', 'id-1', 8, 1000, 'done', 'submitted', NULL,
    'sub-1', 'abc', '{}', '2026-01-06T12:01:00+00:00');
"""


def test_a_ledger_from_before_versioning_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / Ledger.FILENAME)
    db.executescript(_UNVERSIONED)
    db.close()
    with Ledger(tmp_path) as led:
        assert led.schema_version == len(MIGRATIONS)
        (run,) = led.runs()
        assert (run.id, run.exit_code, run.error, run.failed) == ("old-run", 0, None, False)
        (o,) = led.outcomes()
        assert (o.model, o.status, o.submission_id, o.late) == ("anas", "submitted", "sub-1", False)
        rid = led.start_run("run")
        led.finish_run(rid, 2, {}, {}, error="missing Numerai API key")
        assert led.runs()[0].error == "missing Numerai API key"


def test_a_migration_added_later_applies_to_a_current_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Ledger(tmp_path) as led:
        rid = led.start_run("run")
        led.record(rid, "anas", tournament=8, round_number=7, stage="done", status="submitted")
        led.finish_run(rid, 0, {"submitted": 1}, {})
    step = ("ALTER TABLE runs ADD COLUMN host TEXT", "UPDATE runs SET host = 'laptop'")
    monkeypatch.setattr(ledger_module, "MIGRATIONS", (*MIGRATIONS, step))
    with Ledger(tmp_path) as led:
        assert led.schema_version == len(MIGRATIONS) + 1
        assert [r.id for r in led.runs()] == [rid]
        assert led.outcomes()[0].status == "submitted"
    db = sqlite3.connect(tmp_path / Ledger.FILENAME)
    assert db.execute("SELECT host FROM runs").fetchall() == [("laptop",)]
    db.close()
    # Opening again applies nothing twice (the ALTER would fail on a second pass).
    with Ledger(tmp_path) as led:
        assert led.schema_version == len(MIGRATIONS) + 1


def test_a_ledger_from_a_newer_version_is_refused_naming_the_setting(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / Ledger.FILENAME)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(ConfigError, match=r"newer numerai-autopilot.*NUMERAI_STATE_DIR"):
        Ledger(tmp_path)
