"""A Model Upload pickle in a whole run against the sandbox, as numerai-predict runs it: the
whole live frame whatever ``features`` says (whatever the other entries load), and an output
Numerai would refuse reported after the run, or failing the model with --strict-model-upload."""

from __future__ import annotations

import sys
from typing import Any

import cloudpickle
import pandas as pd

from numerai_autopilot.cli.app import run_cli
from support.invariants import check_invariants, iter_lines
from support.rig import Rig


def _per_era(live_features: pd.DataFrame) -> pd.DataFrame:
    # Reads era and data_type, which no feature set holds: it needs the whole frame.
    assert set(live_features["data_type"]) == {"live"}
    cols = [c for c in live_features.columns if c.startswith("feature_")][:5]
    live_features["prediction"] = live_features[cols].astype("float32").mean(axis=1)
    return live_features.groupby("era")[["prediction"]].rank(pct=True)


def _series(live_features: pd.DataFrame) -> pd.Series:
    cols = [c for c in live_features.columns if c.startswith("feature_")][:5]
    return live_features[cols].astype("float32").mean(axis=1).rank(pct=True)


def _models(rig: Rig) -> None:
    """Two pickles and an entry point, each naming the small feature set (no era in it): a run
    that cut frames by ``features`` would load only those columns."""
    rig.write_models(["corvus_corone"], extra_toml="")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # as a notebook's functions
    try:
        for name, fn in (("per_era", _per_era), ("series", _series)):
            (rig.models_dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(fn))
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    toml = (
        (rig.models_dir / "models.toml")
        .read_text()
        .replace(
            'entrypoint = "my_models:m_corvus_corone"',
            'entrypoint = "my_models:m_corvus_corone"\nfeatures = "small"',
        )
    )
    toml += (
        '[[model]]\nname = "anas_platyrhynchos"\nartifact = "per_era.pkl"\nfeatures = "small"\n\n'
        '[[model]]\nname = "netta_rufina"\nartifact = "series.pkl"\nfeatures = "small"\n'
    )
    (rig.models_dir / "models.toml").write_text(toml)


def _warnings(res: Any) -> dict[str, str | None]:
    assert res.report is not None, res.out[-2000:]
    return {o["name"]: o.get("warning") for o in res.report["outcomes"]}


def test_pickles_get_the_whole_frame_and_a_refused_output_is_reported(rig: Rig, capfd: Any) -> None:
    _models(rig)
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    warned = _warnings(res)
    assert warned["anas_platyrhynchos"] is None
    assert warned["corvus_corone"] is None
    assert "would be refused as a Model Upload: returns a Series" in str(warned["netta_rufina"])


def test_strict_model_upload_fails_only_the_pickle_numerai_would_refuse(
    rig: Rig, capfd: Any
) -> None:
    _models(rig)
    res = rig.cli("--strict-model-upload", capfd=capfd)
    check_invariants(
        rig,
        res,
        exit_code=1,
        failed={"netta_rufina": "would be refused as a Model Upload: returns a Series"},
    )


def test_models_check_reports_what_numerai_would_refuse_and_submits_nothing(
    rig: Rig, capfd: Any, monkeypatch: Any
) -> None:
    _models(rig)
    for name, value in rig.env().items():
        monkeypatch.setenv(name, value)
    capfd.readouterr()
    assert run_cli(["models", "check"]) == 0
    [doc] = [d for d in iter_lines(capfd.readouterr().out) if d.get("event") == "check.summary"]
    warned = {o["name"]: (o["status"], o.get("warning")) for o in doc["outcomes"]}
    assert warned["anas_platyrhynchos"] == ("checked", None)
    status, warning = warned["netta_rufina"]
    assert status == "checked"
    assert "would be refused as a Model Upload: returns a Series" in str(warning)
    assert rig.sb.submissions() == []
