"""The run's promises, end to end against the sandbox over real HTTP (issue: the run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from numerai_autopilot.data import load_frame
from numerai_autopilot.run.blend import blend
from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.run.validate import build_submission
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.nn import add_keras
from support.rig import settings_for
from support.torch_nn import add_torch
from support.workshop import ArtifactCache, Workshop


def _live(
    sb: Sandbox, t: Tournament, round_number: int
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The round's live (and benchmark) frames, straight from the sandbox's own data."""
    rules, version = (
        t.rules,
        {Tournament.CLASSIC: "v5.2", Tournament.SIGNALS: "v2.1", Tournament.CRYPTO: "v2.0"}[t],
    )
    base = f"{rules.dataset_prefix}{version}/"
    live = load_frame(
        sb.data.dataset_path(int(t), round_number, base + rules.live_file), index=rules.id_column
    )
    bench = None
    if t is Tournament.CLASSIC:
        bench = load_frame(
            sb.data.dataset_path(int(t), round_number, base + "live_benchmark_models.parquet"),
            index=rules.id_column,
        )
    return live, bench


@pytest.fixture
def every_format(sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache) -> Workshop:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("duck_lgbm")
    w.xgboost("duck_xgb")
    w.catboost("duck_cat")
    w.onnx("duck_onnx")
    w.sklearn_pickle("duck_pickle")
    w.sklearn_pickle("duck_joblib", use_joblib=True)
    w.function("duck_fn1")
    w.function("duck_fn2", two_params=True)
    w.entrypoint("duck_entry")
    w.predictions_file("duck_file")
    add_keras(w, "duck_keras")
    add_keras(w, "duck_h5", legacy=True)
    add_torch(w, "duck_torchscript", ".pt")
    add_torch(w, "duck_torch_export", ".pt2", stored=True)  # its features saved in it
    w.blend("duck_blend", {"duck_lgbm": 0.7, "duck_xgb": 0.3})
    w.signals_joblib("goose_signals")
    w.crypto_function("crow_crypto")
    w.write_toml()
    w.close()
    return w


@pytest.mark.parametrize("mode", ["auto", "portable"])
@pytest.mark.timeout(900)  # portable: each of 19 models spawns an interpreter and imports again
def test_one_run_submits_every_format_and_a_rerun_does_nothing(
    sb: Sandbox, tmp_path: Path, every_format: Workshop, mode: str
) -> None:
    # portable: the macOS/Windows path (spawned workers, the frame in a file of the data dir,
    # no /dev/shm, /proc or libc), forced here so that Linux CI proves it.
    # A spawned worker imports pandas and its model library again (keras + jax: 20-30 s each
    # on the loaded 2-core test machine, torch 5-10 s), so the portable run gets a looser
    # per-model timeout.
    timeout = 300 if mode == "portable" else 60
    settings = settings_for(sb, tmp_path, worker_mode=mode, model_timeout=timeout)
    sb.reset_counters()
    with Runner(settings) as runner:
        report = runner.run()
    failed = {o.name: o.error for o in report.outcomes if o.status is not Status.SUBMITTED}
    assert failed == {}
    assert report.exit_code == 0
    frames = tmp_path / "data" / "frames"
    assert frames.is_dir() is (mode == "portable")  # where the shared frame was written
    assert not frames.is_dir() or list(frames.iterdir()) == []  # and removed after the run

    refs = {e.name: e for e in every_format.entries}
    raw: dict[str, pd.Series] = {}
    for o in report.outcomes:
        t = o.tournament
        rnd = report.rounds[t]
        assert rnd is not None
        live, bench = _live(sb, t, rnd.number)
        entry = refs[o.name]
        rank = "rank = true" in entry.toml
        if entry.reference is None:  # the blend: of its components' raw predictions
            expected_raw = blend(
                {k: raw[k] for k in ("duck_lgbm", "duck_xgb")}, {"duck_lgbm": 0.7, "duck_xgb": 0.3}
            )
        else:
            expected_raw = entry.reference(live, bench)
            raw[o.name] = expected_raw
        expected = build_submission(t, expected_raw, live.index, rank=rank)
        (stored,) = [s for s in sb.submissions(o.name)]
        got = sb.submission_frame(str(stored["id"]))
        id_col, pred_col = t.rules.id_column, t.rules.prediction_column
        got_col = got.set_index(id_col)[pred_col].astype(float)
        exp_col = expected.set_index(id_col)[pred_col].astype(float)
        assert list(got_col.index) == list(exp_col.index), o.name
        pd.testing.assert_series_equal(got_col, exp_col, check_names=False, rtol=1e-6, obj=o.name)

    # The repeated trigger: one status request, nothing downloaded or uploaded.
    sb.reset_counters()
    with Runner(settings) as runner:
        again = runner.run()
    assert again.exit_code == 0
    assert {o.status for o in again.outcomes} == {Status.ALREADY}
    c = sb.counters()
    assert c["requests"] == 1, c
    assert c["uploads"] == 0
    assert sum(c["downloads"].values()) == 0
    assert len(sb.submissions()) == len(report.outcomes)


def test_new_round_downloads_new_live_data(
    sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache
) -> None:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("duck_lgbm")
    w.write_toml()
    w.close()
    settings = settings_for(sb, tmp_path)
    with Runner(settings) as runner:
        first = runner.run()
    assert first.outcomes[0].status is Status.SUBMITTED
    old_ids = set(sb.live_ids(int(Tournament.CLASSIC)))
    sb.open_round(int(Tournament.CLASSIC))
    new_ids = set(sb.live_ids(int(Tournament.CLASSIC)))
    assert not old_ids & new_ids
    sb.reset_counters()
    with Runner(settings) as runner:
        second = runner.run()
    assert second.outcomes[0].status is Status.SUBMITTED, second.outcomes[0].error
    assert first.outcomes[0].round_number is not None
    assert second.outcomes[0].round_number == first.outcomes[0].round_number + 1
    assert sb.counters()["downloads"].get("v5.2/live.parquet") == 1
    latest = sb.submissions("duck_lgbm")[-1]
    ids = set(sb.submission_frame(str(latest["id"]))["id"])
    assert ids == new_ids
