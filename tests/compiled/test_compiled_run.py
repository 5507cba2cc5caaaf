"""Compiled models in real runs against the sandbox: a run stores the live rows, `models
prepare` compiles, a wrong entry never reaches a submission, a compile in progress is never
waited for."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.compiled import CompiledStore, prepare_models, store_for
from numerai_autopilot.config import Settings
from numerai_autopilot.data import load_frame
from numerai_autopilot.run.report import Status
from numerai_autopilot.run.runner import Runner
from numerai_autopilot.run.validate import build_submission
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.rig import settings_for
from support.workshop import ArtifactCache, Workshop

C = Tournament.CLASSIC


@pytest.fixture
def one_lightgbm(sb: Sandbox, tmp_path: Path, artifacts: ArtifactCache) -> Workshop:
    w = Workshop(sb, tmp_path / "models", tmp_path / "train-cache", artifacts)
    w.lightgbm("duck_lgbm")
    w.write_toml()
    w.close()
    return w


def _run_and_check(sb: Sandbox, settings: Settings, w: Workshop) -> None:
    """One run submits duck_lgbm with exactly LightGBM's ranks."""
    with Runner(settings) as runner:
        report = runner.run()
    (o,) = report.outcomes
    assert o.status is Status.SUBMITTED, o.error
    rnd = report.rounds[C]
    assert rnd is not None
    base = "v5.2/"
    live = load_frame(sb.data.dataset_path(int(C), rnd.number, base + "live.parquet"), index="id")
    ref = w.entries[0].reference
    assert ref is not None
    expected = build_submission(C, ref(live, None), live.index, rank=True)
    got = sb.submission_frame(str(sb.submissions("duck_lgbm")[-1]["id"]))
    pd.testing.assert_series_equal(
        got.set_index("id")["prediction"].astype(float),
        expected.set_index("id")["prediction"].astype(float),
        check_names=False,
        rtol=1e-9,
    )


def _entries(store: CompiledStore) -> list[Path]:
    return [p for p in store.root.iterdir() if p.is_dir() and p.name not in ("samples", "jit")]


def test_a_wrong_compiled_entry_never_reaches_a_submission(
    sb: Sandbox, tmp_path: Path, one_lightgbm: Workshop, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(sb, tmp_path)
    _run_and_check(sb, settings, one_lightgbm)  # LightGBM; stores the live rows
    store = store_for(settings)
    assert store.sample_path("classic").exists()
    (done,) = prepare_models(settings)
    assert done.status == "compiled", done
    (entry,) = _entries(store)
    # The stored LightGBM answers no longer agree with the compiled object: it must not be used.
    expected = np.load(entry / "expected.npy")
    (entry / "expected.npy").chmod(0o600)
    np.save(entry / "expected.npy", expected * 2 + 1)
    sb.open_round(int(C))
    with caplog.at_level(logging.WARNING):
        _run_and_check(sb, settings, one_lightgbm)
    assert store.rejected(entry.name), "the worker did not reject the entry"
    assert any("rejected" in r.getMessage() for r in caplog.records)
    assert [p.status for p in prepare_models(settings)] == ["compiled"]  # rebuilt
    assert store.rejected(entry.name) is None
    sb.open_round(int(C))
    _run_and_check(sb, settings, one_lightgbm)  # now with the compiled model
    assert store.rejected(entry.name) is None and store.problem(entry.name) is None


def test_a_run_during_a_compile_uses_lightgbm_without_waiting(
    sb: Sandbox, tmp_path: Path, one_lightgbm: Workshop
) -> None:
    settings = settings_for(sb, tmp_path)
    _run_and_check(sb, settings, one_lightgbm)
    store = store_for(settings)
    code = (
        "import sys, filelock; lock = filelock.FileLock(sys.argv[1]); lock.acquire(timeout=30); "
        "print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(store.root / ".compile.lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        assert [p.status for p in prepare_models(settings)] == ["busy"]
        sb.open_round(int(C))
        started = time.monotonic()
        _run_and_check(sb, settings, one_lightgbm)
        assert time.monotonic() - started < 120
        assert _entries(store) == []
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
