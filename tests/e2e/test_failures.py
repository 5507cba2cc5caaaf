"""One broken model never stops the others; a killed run resumes with only what is missing;
no secret leaks anywhere (issue: the run)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import cloudpickle
import numpy as np
import pandas as pd

from numerai_autopilot.config import load_models_file
from numerai_autopilot.data import load_frame
from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.run.worker import LiveData, predict_many
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import env_for, settings_for
from support.workshop import ArtifactCache, Workshop

C = Tournament.CLASSIC
SIMPLE_RETURN = (
    "return live.filter(like='feature_').iloc[:, :3].astype('float32').mean(axis=1).rank(pct=True)"
)


def _fn(w: Workshop, name: str, body: str) -> None:
    """A cloudpickled Model Upload function whose body is ``body`` (live is its argument)."""
    ns: dict[str, object] = {}
    src = "import numpy as np, os, time, pandas as pd\ndef predict(live):\n"
    exec(src + textwrap.indent(textwrap.dedent(body), "    "), ns)  # noqa: S102 - test models
    (w.dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(ns["predict"]))
    w.add(name, C, f'artifact = "{name}.pkl"\n', None)


def test_each_broken_model_fails_alone_with_its_reason(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("good_lgbm")
    w.function("good_fn")
    (w.dir / "corrupt.txt").write_text("tree\nthis is not a lightgbm model\n")
    w.add("bad_corrupt", C, 'artifact = "corrupt.txt"\nformat = "lightgbm"\n', None)
    _fn(w, "bad_raises", 'raise RuntimeError("model exploded")')
    _fn(w, "bad_nan", "return pd.Series(np.nan, index=live.index)")
    _fn(w, "bad_length", "return pd.Series(0.5, index=live.index[:-3])")
    _fn(w, "bad_hang", "time.sleep(600)")
    w.lightgbm("bad_feature", rename={w.small[0]: "feature_that_does_not_exist"})
    w.add("bad_set", C, 'artifact = "good_fn.pkl"\nfeatures = "no_such_set"\n', None)
    w.write_toml()
    w.close()

    settings = settings_for(sb, tmp_path, model_timeout=20)
    with Runner(settings) as runner:
        report = runner.run()
    by = {o.name: o for o in report.outcomes}
    assert by["good_lgbm"].status is Status.SUBMITTED
    assert by["good_fn"].status is Status.SUBMITTED
    reasons = {n: (o.status, o.error or "") for n, o in by.items() if n.startswith("bad_")}
    assert all(s is Status.FAILED for s, _ in reasons.values()), reasons
    assert "model exploded" in reasons["bad_raises"][1]
    assert "NaN" in reasons["bad_nan"][1] or "nan" in reasons["bad_nan"][1].lower()
    assert "timed out" in reasons["bad_hang"][1]
    assert "feature_that_does_not_exist" in reasons["bad_feature"][1]
    assert "missing" in reasons["bad_length"][1].lower()
    assert reasons["bad_corrupt"][1]
    assert "no_such_set" in reasons["bad_set"][1]
    assert report.exit_code == 1
    # Nothing invalid reached Numerai.
    assert {s["model_name"] for s in sb.submissions()} == {"good_lgbm", "good_fn"}


def test_rerun_after_kill_submits_only_missing(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("fast_one")
    w.function("fast_two")
    # Slow models: the run is killed while they predict, after the fast ones uploaded.
    for i in range(3):
        _fn(
            w,
            f"slow_{i}",
            "time.sleep(float(os.environ.get('SLOW', '30')))\n" + SIMPLE_RETURN,
        )
    w.write_toml()
    w.close()
    env = env_for(sb, tmp_path) | {"NUMERAI_WORKERS": "2", "SLOW": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while len(sb.submissions()) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert len(sb.submissions()) == 2, proc.communicate(timeout=5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its workers, mid-prediction
        proc.wait(10)
    # Workers inherit SLOW from the environment of the run that starts them.
    os.environ["SLOW"] = "0"
    try:
        with Runner(settings_for(sb, tmp_path)) as runner:
            report = runner.run()
    finally:
        del os.environ["SLOW"]
    by = {o.name: o.status for o in report.outcomes}
    assert by == {
        "fast_one": Status.ALREADY,
        "fast_two": Status.ALREADY,
        "slow_0": Status.SUBMITTED,
        "slow_1": Status.SUBMITTED,
        "slow_2": Status.SUBMITTED,
    }
    per_model = pd.Series([s["model_name"] for s in sb.submissions()]).value_counts()
    assert (per_model == 1).all(), per_model


def test_reordered_live_columns_do_not_change_predictions(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("m_lgbm")
    w.xgboost("m_xgb")
    w.catboost("m_cat")
    w.sklearn_pickle("m_pickle")
    w.onnx("m_onnx")
    w.write_toml()
    w.close()
    path = next((tmp_path / "train-cache").rglob("train.parquet"))
    frame = load_frame(path).iloc[:200]
    feats = [c for c in frame.columns if c.startswith("feature_")]
    shuffled = frame[list(np.random.default_rng(1).permutation(feats))]
    specs = load_models_file(w.dir).models
    fsets = w.fsets

    def run(f: pd.DataFrame) -> dict[str, pd.Series]:
        res = predict_many(
            specs, {C: LiveData(f, None, fsets)}, workers=2, timeout=60, memory_mb=None
        )
        assert all(r.error is None for r in res), [r.error for r in res]
        return {r.name: r.predictions for r in res if r.predictions is not None}

    a, b = run(frame[feats]), run(shuffled)
    for name in a:
        pd.testing.assert_series_equal(a[name], b[name], obj=name)


def test_no_secret_in_any_output_ledger_or_worker_environment(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    spy = tmp_path / "worker-env.json"
    _fn(
        w,
        "env_spy",
        f"open({str(spy)!r}, 'w').write(__import__('json').dumps(dict(os.environ)))\n"
        + SIMPLE_RETURN,
    )
    _fn(w, "bad_raises", 'raise RuntimeError("boom")')
    w.write_toml()
    w.close()
    env = env_for(sb, tmp_path)
    outs = []
    for args in (["run", "-v"], ["run", "-v"], ["status"], ["history"], ["plan"]):
        p = subprocess.run(
            [sys.executable, "-m", "numerai_autopilot", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outs.append(p.stdout + p.stderr)
    text = "\n".join(outs)
    assert "boom" in text  # the failure is reported ...
    assert "env_spy" in text
    for secret in (sb.secret_key, sb.public_id):
        assert secret not in text
        assert secret not in spy.read_text()
        for f in (tmp_path / "data").rglob("*"):
            if f.is_file():
                assert secret.encode() not in f.read_bytes(), f
    worker_env = json.loads(spy.read_text())
    assert not [k for k in worker_env if k.startswith("NUMERAI_")]
    with sqlite3.connect(tmp_path / "data" / "ledger.sqlite") as db:
        dump = "\n".join(db.iterdump())
    assert sb.secret_key not in dump
    assert sb.public_id not in dump
