"""Uploads happen off the scheduling path: a slow upload never delays the next model's worker,
and the no-duplicate promises hold (one look before the first upload, confirm after)."""

from __future__ import annotations

from pathlib import Path

from numerai_autopilot.run.report import Outcome, Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox
from support.rig import settings_for
from support.workshop import ArtifactCache, Workshop

_SLOW = 20.0  # seconds the first upload takes: far longer than a small model's prediction


def test_a_slow_upload_does_not_hold_back_the_next_model(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    for name in ("duck_a", "duck_b", "duck_c"):
        w.lightgbm(name)
    w.write_toml()
    w.close()
    settings = settings_for(sb, tmp_path, workers=1, http_timeout=60)
    events: list[tuple[str, str, Status]] = []

    def hook(event: str, o: Outcome) -> None:
        events.append((event, o.name, o.status))

    sb.inject("slow", match="PUT", seconds=_SLOW)  # the first upload's PUT only
    sb.reset_counters()
    with Runner(settings) as runner:
        report = runner.run(on_event=hook)
    assert report.exit_code == 0, [o.error for o in report.outcomes]
    assert {o.status for o in report.outcomes} == {Status.SUBMITTED}
    first_done = next(i for i, e in enumerate(events) if e[0] == "done")
    predicted = [i for i, e in enumerate(events) if e[0] == "predicted"]
    # One worker at a time: every model predicted while the first upload was still going.
    assert len(predicted) == 3 and max(predicted) < first_done, events
    # Each model uploaded once; one look before the first upload and one confirmation after.
    assert len(sb.submissions()) == 3
    assert sb.counters()["uploads"] == 3
