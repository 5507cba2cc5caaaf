"""Resident mode: a schedule process keeps one server with the models loaded between rounds.

Each test lives two rounds in one Scheduler against the sandbox (jump clock), and checks what
the second round's run forked from (the server's pid), what it loaded (the server's own load
count and the run's log line) and what it submitted (against LightGBM on the live data)."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import lightgbm as lgb
import pandas as pd
import pytest

from numerai_autopilot.data import load_frame
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.schedule import Scheduler
from numerai_autopilot.tournaments import Tournament
from support.clocks import JumpClock
from support.rig import settings_for
from support.workshop import C, Workshop


def _live(sb: Sandbox) -> pd.DataFrame:
    rules = Tournament.CLASSIC.rules
    path = f"{rules.dataset_prefix}v5.2/{rules.live_file}"
    number = sb.rounds.latest(int(C)).number
    return load_frame(sb.data.dataset_path(int(C), number, path), index=rules.id_column)


def _submitted(sb: Sandbox, name: str) -> pd.Series:
    """The model's submission in the current round."""
    number = sb.current_round(int(C))["number"]
    (sub,) = [s for s in sb.submissions(name) if s["round"] == number]
    frame = sb.submission_frame(str(sub["id"])).set_index(Tournament.CLASSIC.rules.id_column)
    return frame["prediction"]


def _expect(sb: Sandbox, name: str, model: Path) -> None:
    """The submission ranks like LightGBM's own predictions of ``model`` on the live data."""
    live = _live(sb)
    booster = lgb.Booster(model_file=str(model))
    feats = booster.feature_name()
    want = pd.Series(booster.predict(live[feats].astype("float32")), index=live.index)
    got = _submitted(sb, name)
    assert set(got.index) == set(live.index)
    assert got.corr(want.reindex(got.index), method="spearman") > 0.999, name


def _next_round(sb: Sandbox) -> None:
    sb.close_round(int(C))
    sb.open_round(int(C), duration=3600)


def _setup(sb: Sandbox, base: Path, *names: str) -> Workshop:
    w = Workshop(sb, base / "models", base / "train-cache")
    for n in names:
        w.lightgbm(n)
    w.write_toml()
    w.close()
    return w


def _loaded_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "models resident" in r.getMessage()]


MakeScheduler = Callable[..., Scheduler]


@pytest.fixture
def sched_for(jsb: Sandbox, jump: JumpClock, tmp_path: Path) -> Iterator[MakeScheduler]:
    made: list[Scheduler] = []

    def make(**extra: object) -> Scheduler:
        s = Scheduler(settings_for(jsb, tmp_path, **extra), clock=jump, poll=60)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def test_second_round_forks_from_the_same_server_without_reloading(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    _setup(jsb, tmp_path, "res_a", "res_b")
    sched = sched_for()
    caplog.set_level(logging.INFO, logger="numerai_autopilot")
    sched.run(max_runs=1)
    resident = sched.resident
    assert resident is not None and resident.pid is not None
    first_pid = resident.pid
    assert resident.stats.loads == 2 and resident.stats.servers == 1
    for n in ("res_a", "res_b"):
        _expect(jsb, n, tmp_path / "models" / f"{n}.txt")
    _next_round(jsb)
    sched.run(max_runs=2)
    assert resident.pid == first_pid and resident.stats.servers == 1
    assert resident.stats.loads == 2  # nothing loaded again
    assert resident.stats.statuses == {"res_a": "kept", "res_b": "kept"}
    assert "res_a (kept)" in _loaded_lines(caplog)[-1]
    for n in ("res_a", "res_b"):
        _expect(jsb, n, tmp_path / "models" / f"{n}.txt")


def test_a_replaced_artifact_is_loaded_again_and_its_predictions_submitted(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    w = _setup(jsb, tmp_path, "res_swap", "res_same")
    sched = sched_for()
    sched.run(max_runs=1)
    resident = sched.resident
    assert resident is not None
    # Another model under the same name: different trees, so different predictions.
    path = tmp_path / "models" / "res_swap.txt"
    old = tmp_path / "old.txt"
    old.write_bytes(path.read_bytes())
    params = {"objective": "regression", "verbose": -1, "num_leaves": 15, "num_threads": 1}
    lgb.train(params | {"seed": 7}, lgb.Dataset(w.X, w.y), 60).save_model(str(path) + ".new")
    os.replace(str(path) + ".new", path)
    _next_round(jsb)
    sched.run(max_runs=2)
    assert resident.stats.statuses["res_swap"].startswith("loaded")
    assert resident.stats.statuses["res_same"] == "kept"
    assert resident.stats.loads == 3
    _expect(jsb, "res_swap", path)
    with pytest.raises(AssertionError):  # and not what the old model would have predicted
        _expect(jsb, "res_swap", old)


def test_a_killed_server_is_replaced_and_the_round_still_submits(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    _setup(jsb, tmp_path, "res_kill")
    sched = sched_for()
    sched.run(max_runs=1)
    resident = sched.resident
    assert resident is not None and resident.pid is not None
    first_pid = resident.pid
    os.kill(first_pid, signal.SIGKILL)
    _next_round(jsb)
    caplog.set_level(logging.INFO, logger="numerai_autopilot")
    sched.run(max_runs=2)
    assert resident.pid not in (None, first_pid) and resident.stats.servers == 2
    assert any(f"resident server (pid {first_pid}) ended" in r.getMessage() for r in caplog.records)
    _expect(jsb, "res_kill", tmp_path / "models" / "res_kill.txt")


def test_the_memory_setting_keeps_models_out(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    _setup(jsb, tmp_path, "res_big")
    sched = sched_for(resident_memory_mb=1)  # below any server's own RSS
    sched.run(max_runs=1)
    resident = sched.resident
    assert resident is not None
    assert resident.stats.statuses == {"res_big": "memory"}
    _expect(jsb, "res_big", tmp_path / "models" / "res_big.txt")  # loaded in its worker
    _next_round(jsb)
    sched.run(max_runs=2)
    assert resident.stats.statuses == {"res_big": "memory"} and resident.stats.loads == 0
    _expect(jsb, "res_big", tmp_path / "models" / "res_big.txt")


def test_resident_off_keeps_no_server(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    _setup(jsb, tmp_path, "res_off")
    sched = sched_for(resident=False)
    sched.run(max_runs=1)
    assert sched.resident is None
    _expect(jsb, "res_off", tmp_path / "models" / "res_off.txt")
