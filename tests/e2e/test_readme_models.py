"""The README's models file, verbatim, runs as documented (issue 9): a blend with a disabled
part submits; a part that fails fails its blend with its reason, never the run."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import settings_for
from support.workshop import Workshop

README = Path(__file__).resolve().parents[2] / "README.md"
C, S = Tournament.CLASSIC, Tournament.SIGNALS


def readme_models_toml() -> str:
    """The first toml block of README's "The models file" section, as written."""
    section = README.read_text().split("## The models file", 1)[1]
    match = re.search(r"```toml\n(.*?)```", section, re.S)
    assert match is not None, "README lost its models file example"
    return match.group(1)


def build_readme_models(sb: Sandbox, tmp_path: Path) -> Workshop:
    """The artifacts the README's file names, in the formats it says, trained tiny."""
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache")
    w.lightgbm("anas")
    (w.dir / "anas").mkdir()
    (w.dir / "anas.txt").rename(w.dir / "anas" / "model.txt")
    w.function("netta")  # a cloudpickled Model Upload predict(live)
    (w.dir / "netta").mkdir()
    (w.dir / "netta.pkl").rename(w.dir / "netta" / "predict.pkl")
    w.signals_joblib("goose")  # writes goose.joblib, the README's name
    w.xgboost("sub")
    (w.dir / "sub.json").rename(w.dir / "sub.xgb.json")
    for name, t in [
        ("anas_platyrhynchos", C),
        ("netta_rufina", C),
        ("goose_signals", S),
        ("corvus_corone", C),
    ]:
        w.model(name, t)  # sub_model is not an account model: it is never submitted
    text = readme_models_toml()
    # The one edit: the README's pin is elided ("9f2c..."); pin the real artifact.
    pin = hashlib.sha256((w.dir / "anas" / "model.txt").read_bytes()).hexdigest()
    assert 'sha256 = "9f2c..."' in text
    (w.dir / "models.toml").write_text(text.replace('sha256 = "9f2c..."', f'sha256 = "{pin}"'))
    w.close()
    return w


def test_readme_models_file_runs_and_a_failing_blend_part_fails_only_its_blend(
    sb: Sandbox, tmp_path: Path
) -> None:
    w = build_readme_models(sb, tmp_path)
    good = (w.dir / "sub.xgb.json").read_bytes()
    (w.dir / "sub.xgb.json").write_bytes(b'{"learner": "not a model"}')
    settings = settings_for(sb, tmp_path)

    with Runner(settings) as runner:
        first = runner.run()
    by = {o.name: o for o in first.outcomes}
    assert by["corvus_corone"].status is Status.FAILED
    assert "sub_model" in (by["corvus_corone"].error or "")
    assert by["sub_model"].status is Status.SKIPPED and by["sub_model"].skip == "disabled"
    for name in ("anas_platyrhynchos", "netta_rufina", "goose_signals"):
        assert by[name].status is Status.SUBMITTED, (name, by[name].error)
    assert first.exit_code == 1
    assert {s["model_name"] for s in sb.submissions()} == {
        "anas_platyrhynchos",
        "netta_rufina",
        "goose_signals",
    }

    (w.dir / "sub.xgb.json").write_bytes(good)
    with Runner(settings) as runner:
        second = runner.run()
    by = {o.name: o for o in second.outcomes}
    assert by["corvus_corone"].status is Status.SUBMITTED, by["corvus_corone"].error
    assert by["sub_model"].status is Status.SKIPPED
    for name in ("anas_platyrhynchos", "netta_rufina", "goose_signals"):
        assert by[name].status is Status.ALREADY
    assert second.exit_code == 0
    names = sorted(str(s["model_name"]) for s in sb.submissions())
    assert names == ["anas_platyrhynchos", "corvus_corone", "goose_signals", "netta_rufina"]
