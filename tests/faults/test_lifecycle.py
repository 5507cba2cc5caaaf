"""One run lifecycle for every trigger (issue 9): an error before the plan is an outcome like any
other (one line, its exit code, an alert, a ``/fail`` ping, a ledger row), and ``schedule`` and
``serve`` report their runs exactly as ``run`` does."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from numerai_autopilot.cli.app import run_cli
from numerai_autopilot.config import SettingsSource
from numerai_autopilot.run.lifecycle import Lifecycle
from numerai_autopilot.schedule import Backoff
from numerai_autopilot.schedule.serve import start_server
from support.invariants import check_invariants, iter_lines
from support.receiver import Result
from support.rig import Rig


def _cli(rig: Rig, argv: list[str], capfd: Any, **env: str) -> Result:
    """Any command in this process with the rig's environment (``rig.cli`` runs ``run``)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(rig.env(**env))
    try:
        capfd.readouterr()
        mark = len(rig.receiver.requests)
        code = run_cli(argv)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    cap = capfd.readouterr()
    return Result(code, cap.out + cap.err, None, rig.receiver.requests[mark:])


def _runs(rig: Rig) -> list[tuple[str, int | None, str | None]]:
    """(command, exit code, error) of every run in the ledger, oldest first."""
    with sqlite3.connect(rig.data_dir / "ledger.sqlite") as db:
        rows = db.execute("SELECT command, exit_code, error FROM runs ORDER BY started_at")
        return [(str(c), e, err) for c, e, err in rows.fetchall()]


def _errors(out: str) -> list[str]:
    return [d["msg"] for d in iter_lines(out) if d.get("level") == "error"]


MISSING = "/nonexistent/numerai-secret"

# (variable overrides, a piece of the one error line: it names what to fix)
INVALID = [
    ({"NUMERAI_WORKERS": "abc"}, "NUMERAI_WORKERS"),
    ({"NUMERAI_WORKERS": "0"}, "NUMERAI_WORKERS"),
    ({"NUMERAI_LOG_FORMAT": "xml"}, "NUMERAI_LOG_FORMAT"),
    ({"NUMERAI_SECRET_KEY": "", "NUMERAI_SECRET_KEY_FILE": MISSING}, "NUMERAI_SECRET_KEY_FILE"),
    ({"NUMERAI_SECRET_KEY_FILE": "/etc/hostname"}, "are both set"),
    ({"NUMERAI_MODEL_TIMEOUT": "-1"}, "NUMERAI_MODEL_TIMEOUT"),
    ({"NUMERAI_HTTP_TIMEOUT": "soon"}, "NUMERAI_HTTP_TIMEOUT"),
    ({"NUMERAI_API_URL": "ftp://example.invalid"}, "NUMERAI_API_URL"),
    ({"NUMERAI_MODEL_MEMORY_MB": "0"}, "NUMERAI_MODEL_MEMORY_MB"),
    ({"NUMERAI_NOTIFY_ON_SUCCESS": "maybe"}, "NUMERAI_NOTIFY_ON_SUCCESS"),
    ({"NUMERAI_MODELS_DIR": "/nonexistent/models"}, "NUMERAI_MODELS_DIR"),
    ({"NUMERAI_PUBLIC_ID": ""}, "NUMERAI_PUBLIC_ID"),
    ({"NUMERAI_SECRET_KEY": "X" * 64}, "the API key is wrong or revoked"),
]


@pytest.mark.parametrize(("env", "names"), INVALID, ids=[next(iter(e)) for e, _ in INVALID])
def test_an_invalid_setting_exits_2_with_one_line_alerts_and_is_recorded(
    rig: Rig, capfd: Any, env: dict[str, str], names: str
) -> None:
    rig.data_dir.mkdir(parents=True, exist_ok=True)
    res = rig.cli(capfd=capfd, **env)
    assert res.code == 2, res.out[-2000:]
    errors = _errors(res.out)
    assert len(errors) == 1 and names in errors[0], errors
    assert "Traceback" not in res.out
    [note] = res.notifications()
    assert note["type"] == "failure" and names in note["message"], note
    assert res.pings() == ["start", "fail"]
    [(command, code, error)] = _runs(rig)
    assert (command, code) == ("run", 2) and error is not None and names in error
    check_invariants(rig, res, exit_code=2, crashed=names)


def test_a_broken_models_file_is_recorded_and_alerted_like_a_setting(rig: Rig, capfd: Any) -> None:
    (rig.models_dir / "models.toml").write_text('[[model]]\nname = "x"\nfromat = "onnx"\n')
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="fromat: unknown field")
    assert len(_errors(res.out)) == 1
    assert _runs(rig)[-1][:2] == ("run", 2)


def test_an_unreachable_api_exits_1_and_the_ledger_says_so(rig: Rig, capfd: Any) -> None:
    res = rig.cli(capfd=capfd, NUMERAI_API_URL="http://127.0.0.1:9/", NUMERAI_HTTP_TIMEOUT="1")
    check_invariants(rig, res, exit_code=1, crashed="127.0.0.1:9")
    [(command, code, error)] = _runs(rig)
    assert (command, code) == ("run", 1) and "Connect" in str(error)
    hist = _cli(rig, ["history"], capfd)
    [run] = [d for d in iter_lines(hist.out) if d.get("event") == "run"]
    assert (run["result"], run["exit_code"]) == ("failed", 1), run


def test_a_default_data_dir_that_does_not_exist_is_not_created_for_a_config_error(
    rig: Rig, capfd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    res = rig.cli(capfd=capfd, NUMERAI_DATA_DIR="", NUMERAI_WORKERS="abc")
    assert res.code == 2 and res.pings() == ["start", "fail"]
    assert not (tmp_path / "data").exists()


def test_a_failed_scheduled_run_alerts_naming_the_model_then_a_good_one_pings_success(
    rig: Rig, capfd: Any
) -> None:
    rig.knobs(**{"raise": ["netta_rufina"]})
    res = _cli(rig, ["schedule", "--max-runs", "1", "--poll", "1"], capfd)
    assert res.code == 0, res.out[-2000:]
    [note] = res.notifications()
    assert note["type"] == "failure" and "netta_rufina" in note["title"]
    assert "exploded on purpose" in note["message"]
    assert res.pings() == ["start", "fail"]
    assert _runs(rig)[-1][:2] == ("run", 1)
    rig.knobs()
    again = _cli(rig, ["schedule", "--max-runs", "1", "--poll", "1"], capfd)
    assert again.code == 0 and again.notifications() == []
    assert again.pings() == ["start", "success"]


def test_schedule_with_a_broken_setting_exits_2_alerted_and_recorded(rig: Rig, capfd: Any) -> None:
    rig.data_dir.mkdir(parents=True)
    res = _cli(rig, ["schedule", "--max-runs", "1"], capfd, NUMERAI_SECRET_KEY="")
    assert res.code == 2 and len(_errors(res.out)) == 1, res.out[-2000:]
    assert "NUMERAI_SECRET_KEY" in _errors(res.out)[0]
    assert [n["type"] for n in res.notifications()] == ["failure"]
    assert res.pings() == ["fail"]  # no run started: nothing to ping /start for
    [(command, code, error)] = _runs(rig)
    assert (command, code) == ("schedule", 2) and "NUMERAI_SECRET_KEY" in str(error)


def test_a_failed_webhook_run_alerts_naming_the_model_and_pings_fail(rig: Rig) -> None:
    secret = "wh-lifecycle-" + "s" * 32
    rig.knobs(**{"raise": ["corvus_corone"]})
    env = rig.env(NUMERAI_WEBHOOK_SECRET=secret)
    lifecycle = Lifecycle(SettingsSource(environ=env), trigger="serve")
    mark = len(rig.receiver.requests)
    server = start_server(
        lifecycle.settings, port=0, backoff=Backoff(first=0.1, attempts=1), lifecycle=lifecycle
    )
    try:
        resp = httpx.post(f"{server.url}/webhook/{secret}", timeout=10)
        assert resp.status_code == 202, resp.text
        assert server.trigger.wait_idle(120), "the webhook run did not finish in 120 s"
    finally:
        server.stop()
    res = Result(1, "", None, rig.receiver.requests[mark:])
    [note] = res.notifications()
    assert "corvus_corone" in note["title"] and "exploded on purpose" in note["message"]
    assert res.pings() == ["start", "fail"]
    assert _runs(rig)[-1][:2] == ("run", 1)


def test_ctrl_c_is_one_line_exit_130_and_the_next_run_resumes(rig: Rig) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, while one model
    is still predicting and the other two are submitted."""
    rig.knobs(sleep={"corvus_corone": 60})
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", "run"],
        env=rig.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            names = {s["model_name"] for s in rig.sb.submissions()}
            if {"anas_platyrhynchos", "netta_rufina"} <= names:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err[-2000:]
    # The last line: one JSON log line (was plain text amid the JSON lines), saying it.
    last = json.loads(err.strip().splitlines()[-1])
    assert last["msg"] == "interrupted; the next run resumes where this one stopped", last
    assert "Traceback" not in err, err[-3000:]
    assert _runs(rig)[-1][:2] == ("run", 130)
    rig.knobs()
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", "run"],
        env=rig.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=180)
    res = Result(proc.returncode, out + err, json.loads(out.strip().splitlines()[-1]))
    check_invariants(rig, res, exit_code=0, notified=False)
    assert res.outcomes()["corvus_corone"]["status"] == "submitted"
