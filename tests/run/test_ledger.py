import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from numerai_autopilot.errors import ConfigError
from numerai_autopilot.run.ledger import Ledger


def test_run_and_outcomes_round_trip(tmp_path: Path) -> None:
    with Ledger(tmp_path) as led:
        rid = led.start_run("run", trigger_id="trig-1")
        led.record(
            rid,
            "a",
            tournament=8,
            round_number=900,
            stage="upload",
            status="failed",
            checksum="abc",
            timings={"predict": 1.5},
        )
        led.record(
            rid,
            "a",
            tournament=8,
            round_number=900,
            stage="done",
            status="submitted",
            submission_id="sub-1",
            timings={"predict": 1.5, "upload": 0.2},
        )
        led.finish_run(rid, 0, {"submitted": 1}, {"total": 2.0})
        runs = led.runs()
        assert runs[0].id == rid and runs[0].exit_code == 0 and runs[0].trigger_id == "trig-1"
        assert runs[0].summary == {"submitted": 1}
        (o,) = led.outcomes(run_id=rid)
        # The later write keeps what the earlier one knew (the checksum of what was uploaded).
        assert (o.status, o.submission_id, o.checksum) == ("submitted", "sub-1", "abc")
        assert o.timings == {"predict": 1.5, "upload": 0.2}
        assert led.last_outcome("a", 900) == o
        assert led.last_outcome("a", 901) is None


def _writer(path: str, n: int) -> None:
    with Ledger(Path(path)) as led:
        rid = led.start_run("run")
        for i in range(n):
            led.record(rid, f"m{i}", tournament=8, round_number=1, stage="done", status="submitted")


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    procs = [
        multiprocessing.get_context("spawn").Process(target=_writer, args=(str(tmp_path), 25))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM outcomes").fetchone() == (75,)


def test_unwritable_state_dir_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    with pytest.raises(ConfigError, match="NUMERAI_STATE_DIR"):
        Ledger(blocker / "state")
