"""The resident case drives the real ``serve`` against the sandbox: each triggered round is one
run of its own (never folded into the last), ends when everything is submitted, and is measured
on the server's own process tree (the second round as a memory round: PSS read in full)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.resident import Resident

from numerai_autopilot.sandbox import Sandbox
from support.rig import CLASSIC, env_for

MODELS = """
def rank(live):
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)
"""


def test_two_rounds_back_to_back_are_two_measured_runs(sb: Sandbox, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "my_models.py").write_text(MODELS)
    (models / "models.toml").write_text(
        "".join(f'[[model]]\nname = "{n}"\nentrypoint = "my_models:rank"\n\n' for n in CLASSIC)
    )
    resident = Resident(env_for(sb, tmp_path), tmp_path / "serve.log", timeout=120)
    try:
        for every in (None, 0.05):  # seconds apart: serve as shipped would fold the second call
            sb.open_round(8)
            rnd = int(str(sb.current_round(8)["number"]))
            sb.reset_counters()
            m, last = resident.run_round(
                lambda: int(sb.counters()["uploads"]), len(CLASSIC), every=every
            )
            assert last["summary"]["submitted"] == len(CLASSIC)
            assert last["rounds"] == {"classic": rnd}
            assert m.exit_codes == [0]
            assert m.wall > 0 and m.cpu > 0  # the server's tree did the work
            assert m.peak_rss > 0
            if every is not None:  # the memory round: the server's whole tree, read in full
                assert m.pss_samples >= 1 and 0 < m.peak_pss <= m.pss_rss
                assert "resident_serve.py, depth 0, already running" in m.at_peak
            for name in CLASSIC:
                assert [s["round"] for s in sb.submissions(name)].count(rnd) == 1
    finally:
        total = resident.stop()
    assert resident.proc.poll() is not None
    assert total > 0
