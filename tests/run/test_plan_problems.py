"""`plan` and `models check` fail on what `run` would fail on (issue 9), against the sandbox:
a name the account lacks (with a did-you-mean), a missing artifact, a wrong pin, a data version
not listed, a format the file's magic bytes contradict, an unknown feature set; a blend has
its parts' problems."""

from __future__ import annotations

import json
from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from numerai_autopilot.cli import render
from numerai_autopilot.config import Settings, load_settings
from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox


def _predict(live: pd.DataFrame) -> pd.Series:
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)


ENTRIES = {
    "duck_ok": 'artifact = "f.pkl"\n',
    "duck_okay": 'artifact = "f.pkl"\n',  # not in the account: "duck_ok" is
    "duck_missing": 'artifact = "nope.pkl"\n',
    "duck_dir": 'artifact = "adir.pkl"\n',
    "duck_pin": f'artifact = "f.pkl"\nsha256 = "{"0" * 64}"\n',
    "duck_version": 'artifact = "f.pkl"\ndata_version = "v9.9"\n',
    "duck_magic": 'artifact = "f.pkl"\nformat = "lightgbm"\n',
    "duck_json": 'artifact = "pickled.json"\n',
    "duck_set": 'artifact = "f.pkl"\nfeatures = "no_such_set"\n',
    "duck_mix": "blend = { duck_ok = 1.0, duck_pin = 1.0 }\n",
}
EXPECTED = {
    "duck_okay": "did you mean 'duck_ok'?",
    "duck_missing": "nope.pkl does not exist",
    "duck_dir": "adir.pkl does not exist",
    "duck_pin": "the models file pins " + "0" * 64,
    "duck_version": "v9.9",
    "duck_magic": "f.pkl is not a lightgbm model file",
    "duck_json": "pickled.json is not a xgboost model file",
    "duck_set": "no_such_set",
    "duck_mix": "blend part 'duck_pin'",
}


@pytest.fixture
def settings(sb: Sandbox, tmp_path: Path) -> Settings:
    models = tmp_path / "models"
    models.mkdir()
    (models / "f.pkl").write_bytes(cloudpickle.dumps(_predict))
    (models / "pickled.json").write_bytes(cloudpickle.dumps(_predict))
    (models / "adir.pkl").mkdir()
    toml = ""
    for name, body in ENTRIES.items():
        if name != "duck_okay":
            sb.add_model(name, 8)
        toml += f'[[model]]\nname = "{name}"\n{body}'
    (models / "models.toml").write_text(toml)
    return load_settings(
        {
            "api_url": sb.url,
            "public_id": sb.public_id,
            "secret_key": sb.secret_key,
            "models_dir": models,
            "data_dir": tmp_path / "data",
            "workers": 2,
            "model_timeout": 60,
        },
        environ={},
    )


def test_plan_names_every_problem_run_would_fail_on(
    sb: Sandbox, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with Runner(settings) as runner:
        plan = runner.plan()
    problems = dict(plan.problems)
    assert set(problems) == set(EXPECTED), problems
    for name, text in EXPECTED.items():
        assert text in problems[name], (name, problems[name])
    by = {m.name: m for m in plan.models}
    assert by["duck_ok"].problem is None
    assert sb.submissions() == []
    render.plan(plan, as_json=True)
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {p["model"]: p["problem"] for p in doc["problems"]} == problems
    assert {m["model"]: m["problem"] for m in doc["models"]}["duck_pin"] == problems["duck_pin"]
    render.plan(plan, as_json=False)
    text = capsys.readouterr().out
    assert all(f"problem {name}: " in text for name in EXPECTED), text


def test_plan_without_due_models_checks_nothing_and_costs_one_request(
    sb: Sandbox, settings: Settings
) -> None:
    with Runner(settings) as runner:
        sb.close_round(8)
        plan = runner.plan()
        assert runner.client.requests == 1
    assert plan.problems == [("duck_okay", dict(plan.problems)["duck_okay"])]


def test_models_check_fails_each_with_its_stage_and_reason(sb: Sandbox, settings: Settings) -> None:
    with Runner(settings) as runner:
        report = runner.run(check=True)
    by = {o.name: o for o in report.outcomes}
    assert by["duck_ok"].status is Status.CHECKED
    stages = {
        "duck_okay": "plan",
        "duck_missing": "load",
        "duck_dir": "load",
        "duck_pin": "load",
        "duck_version": "download",
        "duck_magic": "load",
        "duck_json": "load",
        "duck_set": "load",
        "duck_mix": "predict",
    }
    for name, stage in stages.items():
        o = by[name]
        assert (o.status, o.stage) == (Status.FAILED, stage), (name, o)
        assert EXPECTED[name].split(" (")[0] in (o.error or "") or name == "duck_mix", o.error
    assert "duck_pin (load: " in (by["duck_mix"].error or "")
    assert report.exit_code == 1
    assert sb.submissions() == []
