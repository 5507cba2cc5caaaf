"""A run that stops is recorded as what it was (issue 9): the ledger's run row carries the
real exit code and the error; Ctrl-C marks the unfinished models interrupted, not failed."""

from __future__ import annotations

from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.config import Settings
from numerai_autopilot.errors import AuthError, ExitCode, NumeraiError
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.run.report import Outcome, Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox
from support.rig import settings_for


def _predict(live: pd.DataFrame) -> pd.Series:
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)


def write_models(sb: Sandbox, models: Path, names: list[str]) -> None:
    models.mkdir(parents=True, exist_ok=True)
    (models / "f.pkl").write_bytes(cloudpickle.dumps(_predict))
    toml = ""
    for name in names:
        sb.add_model(name, 8)
        toml += f'[[model]]\nname = "{name}"\nartifact = "f.pkl"\n'
    (models / "models.toml").write_text(toml)


def settings(sb: Sandbox, base: Path, **over: object) -> Settings:
    return settings_for(sb, base, **{"workers": 1, **over})


def only_run(s: Settings) -> tuple[int | None, str | None]:
    with Ledger(s.state_path) as ledger:
        (run,) = ledger.runs()
        return run.exit_code, run.error


def test_bad_key_is_recorded_with_exit_2_and_its_error(sb: Sandbox, tmp_path: Path) -> None:
    write_models(sb, tmp_path / "models", ["duck_key"])
    s = settings(sb, tmp_path, secret_key="W" * 64)
    with Runner(s) as runner, pytest.raises(AuthError) as caught:
        runner.run()
    code, error = only_run(s)
    assert code == ExitCode.CONFIG and int(code) == 2
    assert error == str(caught.value) and error


def test_unreachable_api_is_recorded_with_exit_1(sb: Sandbox, tmp_path: Path) -> None:
    write_models(sb, tmp_path / "models", ["duck_down"])
    s = settings(sb, tmp_path)
    dead = NumeraiClient(
        "http://127.0.0.1:9", sb.public_id, sb.secret_key, timeout=1.0, retry_wait_initial=0.0
    )
    with dead, Runner(s, client=dead) as runner, pytest.raises(NumeraiError) as caught:
        runner.run()
    code, error = only_run(s)
    assert code == ExitCode.MODEL_FAILED and int(code) == 1
    assert error == str(caught.value) and "127.0.0.1:9" in error


def test_ctrl_c_keeps_uploads_and_marks_the_rest_interrupted(sb: Sandbox, tmp_path: Path) -> None:
    names = ["duck_c1", "duck_c2", "duck_c3"]
    write_models(sb, tmp_path / "models", names)
    s = settings(sb, tmp_path)

    def ctrl_c_after_first_upload(event: str, o: Outcome) -> None:
        if event == "done" and o.status is Status.SUBMITTED:
            raise KeyboardInterrupt

    with Runner(s) as runner, pytest.raises(KeyboardInterrupt):
        runner.run(on_event=ctrl_c_after_first_upload)
    code, error = only_run(s)
    assert code == ExitCode.INTERRUPTED and int(code) == 130
    assert error == "KeyboardInterrupt"
    with Ledger(s.state_path) as ledger:
        status = {r.model: r.status for r in ledger.outcomes()}
    (uploaded,) = [s["model_name"] for s in sb.submissions()]
    assert status == {n: "submitted" if n == uploaded else "interrupted" for n in names}

    # The next run resumes where this one stopped: only the interrupted ones are submitted.
    with Runner(s) as runner:
        report = runner.run()
    by = {o.name: o.status for o in report.outcomes}
    assert by == {n: Status.ALREADY if n == uploaded else Status.SUBMITTED for n in names}
    assert sorted(str(x["model_name"]) for x in sb.submissions()) == sorted(names)


def test_interrupted_counts_as_failure_but_is_its_own_status() -> None:
    from numerai_autopilot.run.report import RunReport
    from numerai_autopilot.tournaments import Tournament

    o = Outcome("m", Tournament.CLASSIC, Status.INTERRUPTED)
    report = RunReport(run_id="r", outcomes=[o], rounds={})
    assert report.failed == [o]
    assert report.exit_code == 130
    assert report.summary()["interrupted"] == 1 and report.summary()["failed"] == 0
