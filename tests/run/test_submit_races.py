"""The run side of issue 16, against the sandbox: a submission made by someone else after the
plan is not repeated (one look for all models before the first upload), a second submission in
the round is reported by the confirm step, and a round that closes mid-run is reported late."""

from __future__ import annotations

from pathlib import Path

import cloudpickle
import pandas as pd
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.config import Settings, load_settings
from numerai_autopilot.notify._message import report_message
from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.run.report import Outcome, Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

C = Tournament.CLASSIC


def _predict(live: pd.DataFrame) -> pd.Series:
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)


def setup(sb: Sandbox, base: Path, names: list[str]) -> tuple[Settings, dict[str, str]]:
    models = base / "models"
    models.mkdir()
    (models / "f.pkl").write_bytes(cloudpickle.dumps(_predict))
    ids = {n: sb.add_model(n, 8) for n in names}
    (models / "models.toml").write_text(
        "".join(f'[[model]]\nname = "{n}"\nartifact = "f.pkl"\n' for n in names)
    )
    settings = load_settings(
        {
            "api_url": sb.url,
            "public_id": sb.public_id,
            "secret_key": sb.secret_key,
            "models_dir": models,
            "data_dir": base / "data",
            "workers": 1,
            "model_timeout": 60,
        },
        environ={},
    )
    return settings, ids


def submit_elsewhere(sb: Sandbox, api: NumeraiClient, model_id: str, name: str) -> str:
    """Another process's submission for the model's current round."""
    ids = sb.live_ids(8)
    rows = "".join(f"{i},{(k + 0.5) / len(ids):.6f}\n" for k, i in enumerate(ids))
    rnd = api.current_round(C)
    assert rnd is not None
    return api.upload_submission(
        model_id=model_id,
        tournament=C,
        round_number=rnd.number,
        data=("id,prediction\n" + rows).encode(),
        filename=f"{name}_elsewhere.csv",
    )


def test_a_submission_made_after_the_plan_is_not_repeated(
    sb: Sandbox, api: NumeraiClient, tmp_path: Path
) -> None:
    names = ["race_a", "race_b"]
    settings, ids = setup(sb, tmp_path, names)
    theirs: dict[str, str] = {}

    def meanwhile(event: str, o: Outcome) -> None:
        if event == "predicted" and not theirs:
            other = next(n for n in names if n != o.name)
            theirs[other] = submit_elsewhere(sb, api, ids[other], other)

    sb.reset_counters()
    with Runner(settings) as runner:
        report = runner.run(on_event=meanwhile)
    (other,) = theirs
    by = {o.name: o for o in report.outcomes}
    first = next(n for n in names if n != other)
    assert by[first].status is Status.SUBMITTED
    assert by[other].status is Status.ALREADY
    assert by[other].submission_id == theirs[other]
    assert report.exit_code == 0
    for n in names:
        assert len(sb.submissions(n)) == 1, n
    # The account's submissions were asked three times: the snapshot, the one look before
    # the first upload (for both models), the confirm.
    assert sb.counters()["graphql"]["account"] == 3, sb.counters()["graphql"]


def test_a_second_submission_in_the_round_is_reported_by_confirm(
    sb: Sandbox, api: NumeraiClient, tmp_path: Path
) -> None:
    settings, ids = setup(sb, tmp_path, ["twice_duck"])
    second: list[str] = []

    def resubmit(event: str, o: Outcome) -> None:
        if event == "done" and o.status is Status.SUBMITTED:
            second.append(submit_elsewhere(sb, api, ids["twice_duck"], "twice_duck"))

    with Runner(settings) as runner:
        report = runner.run(on_event=resubmit)
    (o,) = report.outcomes
    assert (o.status, o.stage) == (Status.FAILED, "confirm")
    assert "second submission" in (o.error or "") and second[0] in (o.error or "")
    assert report.exit_code == 1
    assert "twice_duck" in report_message(report).title


@pytest.mark.parametrize("late", ["skip", "submit"])
def test_a_round_closing_mid_run_is_reported_late(sb: Sandbox, tmp_path: Path, late: str) -> None:
    settings, _ids = setup(sb, tmp_path, ["late_duck"])
    sb.set_late_submissions(True)

    def close(event: str, _o: Outcome) -> None:
        if event == "predicted":
            sb.close_round(8)  # the plan still holds the old deadline: only the server knows

    with Runner(settings) as runner:
        report = runner.run(on_event=close, late=late)  # type: ignore[arg-type]
    (o,) = report.outcomes
    assert o.status is Status.SUBMITTED and o.late is True
    (stored,) = sb.submissions("late_duck")
    assert stored["status"] == "late"
    with Ledger(settings.state_path) as ledger:
        (row,) = ledger.outcomes(model="late_duck")
    assert row.late is True
