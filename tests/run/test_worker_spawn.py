"""Workers on a host without Linux's calls (macOS, Windows): spawned interpreters that keep
every promise of the fork-server workers: results, failures by name, timeouts, memory bounds
where the OS has them, no secrets, prints on stderr. And Linux keeps its fork server."""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot import _platform
from numerai_autopilot.errors import ModelError, WorkerError
from numerai_autopilot.run import _process, worker
from numerai_autopilot.run._shared import publish, unpublish
from numerai_autopilot.run.worker import LiveData, predict_many
from numerai_autopilot.tournaments import Tournament
from run.test_worker import by_name, exits, fn_spec, good, hang, make_live, raising, segfault

SECRET = "s3cr3t-spawn-value"


def spawned_clean(live_features: pd.DataFrame) -> pd.Series:
    """Fails unless it runs as a direct child of the run, started without secrets (even in
    the environment the interpreter began with), with the parent watchdog on; prints once."""
    with open("/proc/self/environ", "rb") as f:  # the test machine is Linux underneath
        if SECRET.encode() in f.read():
            raise RuntimeError("the spawned interpreter inherited a secret")
    if any("SECRET" in k or k.startswith("NUMERAI_") for k in os.environ):
        raise RuntimeError("secret in os.environ")
    if "watch-parent" not in {t.name for t in threading.enumerate()}:
        raise RuntimeError("no watchdog for the parent although prctl is unavailable")
    print("spawned model says hello")
    return pd.Series(float(os.getppid()), index=live_features.index)


def modest(live_features: pd.DataFrame) -> pd.Series:
    blob = np.ones(2 * 2**20)  # 16 MB, well within its 256 MB bound
    out: pd.Series = live_features["feature_a"] / 4 + blob[0] - 1
    return out


def peak_hog(live_features: pd.DataFrame) -> pd.Series:
    """512 MB over the bound's base. Without /proc the base is the peak resident size, which
    Linux carries across fork and exec: a spawned child starts at its parent's peak (this test
    process's, after the heavier suites), so a fixed 512 MB could fit under it."""
    import resource

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    blob = np.ones((base + 512 * 2**20) // 8)
    out: pd.Series = live_features["feature_a"] + blob[0]
    return out


@pytest.fixture
def outcome(
    tmp_path: Path, non_linux_host: _platform.Host, capfd: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    live = make_live()
    specs = [
        fn_spec(tmp_path, "good", good),
        fn_spec(tmp_path, "raising", raising),
        fn_spec(tmp_path, "segfault", segfault),
        fn_spec(tmp_path, "hang", hang, timeout=2.0),
        fn_spec(tmp_path, "hog", peak_hog, memory_mb=64),
        fn_spec(tmp_path, "modest", modest, memory_mb=256),
        fn_spec(tmp_path, "exits", exits),
        fn_spec(tmp_path, "spawned_clean", spawned_clean),
    ]
    saved = dict(os.environ)
    os.environ.update(NUMERAI_SECRET_KEY=SECRET, MY_API_TOKEN=SECRET)
    started = time.monotonic()
    try:
        results = predict_many(
            specs, {Tournament.CLASSIC: LiveData(live)}, workers=2, timeout=60.0, memory_mb=None
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    elapsed = time.monotonic() - started
    out, err = capfd.readouterr()
    return {"live": live, "results": by_name(results), "elapsed": elapsed, "out": out, "err": err}


def test_spawned_workers_predict_and_fail_each_model_alone(outcome: dict[str, Any]) -> None:
    results = outcome["results"]
    for name in ("good", "modest", "spawned_clean"):
        assert results[name].error is None, (name, results[name].error)
    pd.testing.assert_series_equal(
        results["good"].predictions, (outcome["live"]["feature_a"] / 4).rename("prediction")
    )
    # Spawned by the run itself: its parent is this process, not a fork server.
    assert set(results["spawned_clean"].predictions) == {float(os.getpid())}
    expected = {
        "raising": (ModelError, "model 'raising' raised ValueError: boom in user code"),
        "segfault": (WorkerError, "crashed with signal SIGSEGV"),
        "hang": (WorkerError, "timed out after 2s"),
        "hog": (WorkerError, "exceeded 64 MB of memory"),
        "exits": (WorkerError, "exited with code 3 without returning predictions"),
    }
    for name, (kind, message) in expected.items():
        assert type(results[name].error) is kind, (name, results[name].error)
        assert message in str(results[name].error)
    assert outcome["elapsed"] < 45  # the hang was cut at its own 2 s timeout
    assert "spawned model says hello" not in outcome["out"]
    assert "spawned model says hello" not in outcome["err"]  # was: in; now kept on the result
    assert "spawned model says hello" in outcome["results"]["spawned_clean"].output


def test_without_rlimit_data_models_run_unbounded_and_the_run_says_so_once(
    tmp_path: Path,
    non_linux_host: _platform.Host,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    windows = replace(non_linux_host, rlimit_data=False, maxrss_unit=0, posix=False)
    monkeypatch.setattr(_platform, "HOST", windows)
    monkeypatch.setattr(worker, "_warned_unbounded", False)
    caplog.set_level(logging.WARNING, logger=worker.__name__)
    specs = [fn_spec(tmp_path, n, modest, memory_mb=8) for n in ("a", "b")]  # 16 MB > 8 MB
    results = predict_many(
        specs, {Tournament.CLASSIC: LiveData(make_live())}, workers=2, timeout=60, memory_mb=8
    )
    assert [r.error for r in results] == [None, None]
    warnings = [r.getMessage() for r in caplog.records if "RLIMIT_DATA" in r.getMessage()]
    assert warnings == [
        "memory_mb is not enforced on this platform (no RLIMIT_DATA): "
        "models run without a memory bound"
    ]


def test_host_fallbacks_where_linux_calls_are_missing(
    tmp_path: Path, non_linux_host: _platform.Host
) -> None:
    assert _platform.cpu_count() == max(1, os.cpu_count() or 1)
    assert not non_linux_host.die_with_parent()
    non_linux_host.limit_arenas()  # no glibc: nothing to do, no error
    base = non_linux_host.data_bytes()  # from getrusage: this process has used some memory
    assert base is not None and base > 10 * 2**20
    assert replace(non_linux_host, maxrss_unit=0).data_bytes() is None
    assert not replace(non_linux_host, rlimit_data=False).limit_data(2**40)
    # Where os.kill(pid, 0) would terminate the process (Windows), every pid counts as alive.
    assert replace(non_linux_host, posix=False).pid_alive(2**22 + 12345)
    assert not non_linux_host.pid_alive(2**22 + 12345)
    shared = publish(make_live())
    try:
        assert not shared.folder.startswith("/dev/shm")
        pd.testing.assert_frame_equal(shared.open(), make_live(), check_like=True)
    finally:
        unpublish(shared)


def test_linux_keeps_its_fork_server_and_shm() -> None:
    host = _platform.probe()
    assert host.fork_server and host.affinity and host.shm == Path("/dev/shm")
    assert host == _platform.HOST
    assert _process.context().get_start_method() == "forkserver"
    assert host.cpu_count() == len(os.sched_getaffinity(0))
    data = host.data_bytes()
    assert data is not None and data > 0
