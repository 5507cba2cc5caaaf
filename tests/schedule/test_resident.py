"""Resident mode: a schedule process keeps one server with the models loaded between rounds.

Each test lives two rounds in one Scheduler against the sandbox (jump clock), and checks what
the second round's run forked from (the server's pid), what it loaded (the server's own load
count and the run's log line) and what it submitted (against LightGBM on the live data)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cloudpickle
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.data import load_frame
from numerai_autopilot.run.report import RunReport
from numerai_autopilot.run.resident import describe, read_state
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
    # What `status` shows: the live server, its RSS and limit, the models it holds.
    state = read_state(tmp_path / "data")
    assert state is not None and state["pid"] == first_pid and state["limit_mb"] == 2048
    assert set(state["models"]) == {"res_a", "res_b"} and 50 < state["rss_mb"] < 2048
    assert describe(state).startswith(f"resident server pid {first_pid}: ")
    for n in ("res_a", "res_b"):
        _expect(jsb, n, tmp_path / "models" / f"{n}.txt")
    sched.close()
    assert read_state(tmp_path / "data") is None  # the server is gone with its process


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


def _hog(w: Workshop, name: str) -> None:
    """A function that allocates 512 MB, with a 64 MB bound in its entry."""

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        blob = np.ones(64 * 2**20)
        out: pd.DataFrame = (live.iloc[:, :1].astype("float32") + blob[0]).rank(pct=True)
        return out

    (w.dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(predict))
    w.add(name, C, f'artifact = "{name}.pkl"\nformat = "function"\nmemory_mb = 64\n', None)


def test_a_worker_forked_from_the_resident_server_keeps_its_memory_bound(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    w = Workshop(jsb, tmp_path / "models", tmp_path / "train-cache")
    w.lightgbm("res_lean")
    _hog(w, "res_hog")
    w.write_toml()
    w.close()
    reports: list[RunReport] = []
    sched = sched_for()
    sched.on_report = reports.append
    sched.run(max_runs=1)
    assert sched.resident is not None and sched.resident.stats.statuses == {
        "res_lean": sched.resident.stats.statuses["res_lean"]
    }  # the function is never loaded in the shared server
    (failed,) = reports[-1].failed
    assert failed.name == "res_hog" and "exceeded 64 MB of memory" in str(failed.error)
    _expect(jsb, "res_lean", tmp_path / "models" / "res_lean.txt")


def test_xgboost_and_catboost_stay_resident_and_predict_what_they_should(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    w = Workshop(jsb, tmp_path / "models", tmp_path / "train-cache")
    w.xgboost("res_xgb")
    w.catboost("res_cat")
    w.write_toml()
    w.close()
    sched = sched_for()
    for runs in (1, 2):
        if runs == 2:
            _next_round(jsb)
        sched.run(max_runs=runs)
        live = _live(jsb)
        for entry in w.entries:
            assert entry.reference is not None
            got = _submitted(jsb, entry.name)
            want = entry.reference(live, None).reindex(got.index)
            assert got.corr(want, method="spearman") > 0.999, entry.name
    resident = sched.resident
    assert resident is not None and resident.stats.loads == 2
    assert resident.stats.statuses == {"res_xgb": "kept", "res_cat": "kept"}


def test_a_server_killed_mid_run_costs_no_submission(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    w = Workshop(jsb, tmp_path / "models", tmp_path / "train-cache")
    w.lightgbm("res_first")
    started = tmp_path / "started"
    # The first time it predicts it says so and waits (bounded) to die with the server; the
    # second time, in a worker started the usual way, it predicts at once.
    feats = list(w.small)

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        if not started.exists():
            started.write_text(str(os.getpid()))
            time.sleep(60)
        return live[feats].astype("float32").mean(axis=1).rank(pct=True).to_frame("prediction")

    (w.dir / "res_victim.pkl").write_bytes(cloudpickle.dumps(predict))
    w.add("res_victim", C, 'artifact = "res_victim.pkl"\nformat = "function"\n', None)
    w.write_toml()
    w.close()
    sched = sched_for()

    def killer() -> None:
        for _ in range(600):  # bounded: 60 s
            if started.exists() and sched.resident is not None and sched.resident.pid:
                os.kill(sched.resident.pid, signal.SIGKILL)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=killer)
    thread.start()
    t0 = time.monotonic()
    sched.run(max_runs=1)
    thread.join(timeout=70)
    assert time.monotonic() - t0 < 55  # not the 60 s the first worker would have slept
    assert len(jsb.submissions("res_victim")) == 1
    _expect(jsb, "res_first", tmp_path / "models" / "res_first.txt")


def test_a_model_prepared_between_rounds_is_kept_as_its_forest(
    jsb: Sandbox, tmp_path: Path, sched_for: MakeScheduler
) -> None:
    """Round 1 keeps LightGBM's booster and stores live rows; the model is prepared between
    rounds (by the scheduler's background preparation, or here when that is busy with another
    test's models: one per process); round 2 loads the model again (as the forest), round 3
    reuses it."""
    from numerai_autopilot.compiled import prepare_models, store_for
    from numerai_autopilot.fileio import sha256_file

    _setup(jsb, tmp_path, "res_f")
    model = tmp_path / "models" / "res_f.txt"
    sched = sched_for()
    sched.run(max_runs=1)
    resident = sched.resident
    assert resident is not None and resident.stats.loads == 1
    settings = settings_for(jsb, tmp_path)
    store, sha = store_for(settings), sha256_file(model)
    deadline = time.monotonic() + 240  # a preparation child: seconds, more when busy
    while not store.ready(sha) and time.monotonic() < deadline:
        (state,) = prepare_models(settings)  # "busy" while the scheduler's own one runs
        assert state.status in ("compiled", "ready", "busy"), state
        if state.status == "busy":
            time.sleep(0.5)
    assert store.ready(sha), "the model was not prepared"
    for runs, loads, status in ((2, 2, "loaded in"), (3, 2, "kept")):
        _next_round(jsb)
        sched.run(max_runs=runs)
        assert resident.stats.loads == loads and resident.stats.servers == 1
        assert resident.stats.statuses["res_f"].startswith(status), resident.stats.statuses
        _expect(jsb, "res_f", model)
