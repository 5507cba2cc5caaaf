"""Numerai's schema drifts under the autopilot (issue 9): a run whose one-request snapshot is
rejected field by field still submits every model, once."""

from __future__ import annotations

from pathlib import Path

from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox
from support.rig import settings_for
from support.workshop import Workshop


def test_run_submits_when_numerai_rejects_a_latest_submission_field(
    sb: Sandbox, tmp_path: Path
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache")
    w.predictions_file("drift_file")
    w.function("drift_fn")
    w.write_toml()
    w.close()
    sb.inject("unknown_field", count=1000, type="LatestSubmission", field="filename")
    settings = settings_for(sb, tmp_path)
    with Runner(settings) as runner:
        report = runner.run()
    assert {o.name: o.status for o in report.outcomes} == {
        "drift_file": Status.SUBMITTED,
        "drift_fn": Status.SUBMITTED,
    }
    assert report.exit_code == 0
    assert [len(sb.submissions(n)) for n in ("drift_file", "drift_fn")] == [1, 1]
    with Runner(settings) as runner:  # the per-model answers see both submissions
        again = runner.run()
    assert {o.status for o in again.outcomes} == {Status.ALREADY}
    assert [len(sb.submissions(n)) for n in ("drift_file", "drift_fn")] == [1, 1]
