"""The commands as a user meets them: real processes on the real clock, killed and restarted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from numerai_autopilot.cli import main
from numerai_autopilot.sandbox import Sandbox
from support.rig import env_for
from support.schedule_models import slow
from support.schedule_state import schedule_state
from support.workshop import C, Workshop

SECRET = "cli-test-secret-" + "q" * 30


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    # A session of its own, so that the kill reaches the prediction workers too.
    return subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def _wait_for(what: str, ok: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for p in started:
        _kill(p)


def test_a_restart_in_the_middle_of_a_run_does_not_submit_twice(
    rsb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    w = Workshop(rsb, tmp_path / "models", tmp_path / "train-cache")
    w.function("rs_fast")
    slow(w, "rs_slow", seconds=8, flag=tmp_path / "slow")
    w.write_toml()
    w.close()
    env = env_for(rsb, tmp_path)
    rsb.close_round(int(C))
    rsb.open_round(int(C), open_in=2, duration=600)  # the scheduler must wake for it
    first = _start(env, "schedule", "--poll", "1")
    procs.append(first)
    _wait_for("the fast model's submission", lambda: bool(rsb.submissions("rs_fast")), 60)
    _kill(first)  # SIGKILL while the slow model still predicts
    assert rsb.submissions("rs_slow") == []
    (tmp_path / "slow").unlink()  # quick from now on
    state = schedule_state(tmp_path / "data")
    assert state["rounds"]["classic"]["status"] == "running"

    second = _start(env, "schedule", "--poll", "1", "--max-runs", "1")
    procs.append(second)
    out, err = second.communicate(timeout=90)
    assert second.returncode == 0, err
    (summary,) = [
        json.loads(line) for line in out.splitlines() if '"scheduled-run.summary"' in line
    ]
    assert summary["summary"]["already"] == 1 and summary["summary"]["submitted"] == 1
    for name in ("rs_fast", "rs_slow"):
        (sub,) = rsb.submissions(name)
        assert sub["status"] == "on-time"
    state = schedule_state(tmp_path / "data")
    assert state["rounds"]["classic"]["status"] == "done"
    assert state["rounds"]["classic"]["attempts"] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_on_a_call_and_stops_on_sigterm(
    rsb: Sandbox, tmp_path: Path, procs: list[subprocess.Popen[str]]
) -> None:
    w = Workshop(rsb, tmp_path / "models", tmp_path / "train-cache")
    w.function("sv_model")
    w.write_toml()
    w.close()
    env = env_for(rsb, tmp_path) | {"NUMERAI_WEBHOOK_SECRET": SECRET}
    port = _free_port()
    proc = _start(env, "serve", "--port", str(port))
    procs.append(proc)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return proc.poll() is not None  # exited: fail below, not by timeout

    _wait_for("serve to answer /health", healthy, 30)
    assert proc.poll() is None
    answer = httpx.post(f"{base}/webhook/{SECRET}?triggerId=cli-trigger", timeout=10)
    assert answer.status_code == 202
    _wait_for("the submission", lambda: bool(rsb.submissions("sv_model")), 60)
    assert rsb.submissions("sv_model")[0]["trigger_id"] == "cli-trigger"
    _wait_for(
        "the run to finish",
        lambda: httpx.get(f"{base}/health", timeout=2).json()["running"] is False,
        30,
    )
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert SECRET not in err


def test_serve_without_a_secret_exits_2(rsb: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "models.toml").write_text("")
    env = env_for(rsb, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "NUMERAI_WEBHOOK_SECRET" in done.stderr


@pytest.fixture
def cli_env(rsb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    w = Workshop(rsb, tmp_path / "models", tmp_path / "train-cache")
    w.function("reg_one")
    w.function("reg_two")
    w.write_toml()
    w.close()
    for key in [k for k in os.environ if k.startswith("NUMERAI_")]:
        monkeypatch.delenv(key)
    for key, value in env_for(rsb, tmp_path).items():
        if key.startswith("NUMERAI_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("NUMERAI_WEBHOOK_SECRET", SECRET)
    return rsb


def _webhook(sb: Sandbox, name: str) -> str | None:
    model = sb.state.find_model_by_name(name)
    assert model is not None
    return model.webhook


def test_webhook_register_sets_and_clears_each_models_url(
    cli_env: Sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhook", "register", "https://hooks.example/numerai/"]) == 0
    for name in ("reg_one", "reg_two"):
        assert _webhook(cli_env, name) == f"https://hooks.example/numerai/webhook/{SECRET}"
    assert _webhook(cli_env, "anas_platyrhynchos") is None  # not in the models file
    out = capsys.readouterr().out
    assert SECRET not in out and "webhook/***" in out
    assert main(["webhook", "register", "--clear"]) == 0
    assert _webhook(cli_env, "reg_one") is None and _webhook(cli_env, "reg_two") is None


def test_webhook_register_refuses_plain_http(cli_env: Sandbox) -> None:
    assert main(["webhook", "register", "http://hooks.example"]) == 2
    assert main(["webhook", "register"]) == 2  # neither a URL nor --clear
    assert _webhook(cli_env, "reg_one") is None


def test_schedule_print_shows_a_trigger(capsys: pytest.CaptureFixture[str]) -> None:
    # The texts themselves are the deployment renderers' (tested with them).
    assert main(["schedule", "--print", "cron"]) == 0
    assert "flock" in capsys.readouterr().out
    assert main(["schedule", "--print", "windows"]) == 2
