"""The command line as a user meets it: real processes, real exit codes, JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from numerai_autopilot.cli import main
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import env_for
from support.workshop import ArtifactCache, Workshop

C = Tournament.CLASSIC


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "numerai_autopilot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def events(out: str) -> list[dict[str, Any]]:
    """The JSON lines of ``out`` (JSON documents: their fields are checked at run time)."""
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture
def two_models(sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache) -> dict[str, str]:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("cli_lgbm")
    w.function("cli_fn")
    w.write_toml()
    w.close()
    return env_for(sb, tmp_path)


def test_run_then_rerun_exit_codes_and_json_summary(two_models: dict[str, str]) -> None:
    first = cli(two_models, "run")
    assert first.returncode == 0, first.stderr
    (summary,) = [e for e in events(first.stdout) if e["event"] == "run.summary"]
    assert summary["summary"]["submitted"] == 2
    assert set(summary["timings"]) >= {"resolve", "download", "load", "predict", "upload"}
    second = cli(two_models, "run")
    assert second.returncode == 0
    (summary,) = [e for e in events(second.stdout) if e["event"] == "run.summary"]
    assert summary["summary"]["already"] == 2


def test_plan_status_history_and_check(two_models: dict[str, str]) -> None:
    plan = cli(two_models, "plan")
    assert plan.returncode == 0, plan.stderr
    (doc,) = events(plan.stdout)
    assert doc["pending"] == 2
    check = cli(two_models, "models", "check")
    assert check.returncode == 0, check.stderr
    (summary,) = [e for e in events(check.stdout) if e["event"] == "check.summary"]
    assert summary["summary"]["checked"] == 2
    # ...and compiled the LightGBM model on the live rows it stored (the function is not).
    (compiled,) = [e for e in events(check.stdout) if e["event"] == "compiled"]
    assert (compiled["model"], compiled["status"]) == ("cli_lgbm", "compiled"), compiled
    # models check uploaded nothing: the plan still has both due.
    assert events(cli(two_models, "plan").stdout)[0]["pending"] == 2
    assert cli(two_models, "run").returncode == 0
    status = cli(two_models, "status")
    rows = events(status.stdout)[0]["models"]
    assert {(r["model"], r["api"], r["ledger"]) for r in rows} == {
        ("cli_lgbm", "submitted", "submitted"),
        ("cli_fn", "submitted", "submitted"),
    }
    hist = events(cli(two_models, "history").stdout)
    assert [e["command"] for e in hist if e["event"] == "run"] == ["run", "check"]


def test_no_round_open_exits_3(sb: Sandbox, two_models: dict[str, str]) -> None:
    sb.set_between_rounds("error")
    sb.close_round()
    r = cli(two_models, "run")
    assert r.returncode == 3, r.stdout + r.stderr


def test_bad_key_exits_2_and_says_what_to_fix(two_models: dict[str, str]) -> None:
    env = two_models | {"NUMERAI_SECRET_KEY": "WRONGWRONGWRONG"}
    r = cli(env, "run")
    assert r.returncode == 2
    assert "NUMERAI_SECRET_KEY" in r.stderr or "invalid" in r.stderr
    assert "WRONGWRONGWRONG" not in r.stdout + r.stderr


def test_models_file_mistake_exits_2_naming_the_field(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "models.toml").write_text(
        '[[model]]\nname = "a"\nartifact = "a.txt"\nfromat = "x"\n'
    )
    code = main(
        [
            "plan",
            "--models-dir",
            str(tmp_path),
            "--api-url",
            "http://127.0.0.1:9/",
            "--log-format",
            "json",
        ]
    )
    assert code == 2
    err = capfd.readouterr().err
    # One line naming the file, the model and the misspelt field (and no traceback).
    assert "model #1 ('a'): fromat: unknown field" in err, err
    assert str(tmp_path / "models.toml") in err, err
    assert "Traceback" not in err, err


def test_unknown_option_is_a_usage_error() -> None:
    assert main(["run", "--no-such-option"]) == 2


def test_every_command_documents_itself() -> None:
    for args in (
        ["--help"],
        ["run", "--help"],
        ["sandbox", "serve", "--help"],
        ["models", "check", "--help"],
    ):
        assert main(args) == 0


def test_idle_run_makes_one_request_and_loads_no_data_library(
    sb: Sandbox, two_models: dict[str, str]
) -> None:
    assert cli(two_models, "run").returncode == 0
    sb.reset_counters()
    probe = (
        "import sys, json\n"
        "from numerai_autopilot.cli import main\n"
        "code = main(['run'])\n"
        "heavy = sorted(m for m in ('pandas', 'pyarrow', 'numpy', 'lightgbm', 'sklearn',"
        " 'xgboost', 'catboost', 'onnxruntime', 'numerai_tools', 'scipy',"
        # the idle run's 0.35 s budget (issue 11): no validation library (pydantic, which
        # typer 0.29 brings too), no rich when the output is JSON, not httpx's own
        # command-line tool (the CA bundle read only for https: tests/client/test_tls.py)
        " 'pydantic', 'rich', 'httpx._main', 'importlib.metadata')"
        " if sys.modules.get(m) is not None)\n"
        "print(json.dumps({'probe': heavy, 'code': code}))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe],
        env=two_models,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    (result,) = [e for e in events(p.stdout) if "probe" in e]
    assert result == {"probe": [], "code": 0}, p.stderr
    assert sb.counters()["requests"] == 1


def test_summary_reports_api_requests(two_models: dict[str, str]) -> None:
    (first,) = [e for e in events(cli(two_models, "run").stdout) if e["event"] == "run.summary"]
    # Exactly 10 GraphQL requests: 1 snapshot (rounds and account in one request), 1
    # listDatasets, 2 dataset URLs (live, and the benchmarks because a function model may take
    # them as its second parameter; not features.json: no entry names one of its sets), 1
    # look at the account's submissions right before the first upload (one for all models), 2
    # upload auths and 2 creates (one each per model), 1 confirmation (latestSubmissions).
    # Downloads and PUTs go to the file host and are not API requests.
    assert first["api_requests"] == 10
    (again,) = [e for e in events(cli(two_models, "run").stdout) if e["event"] == "run.summary"]
    assert again["api_requests"] == 1
