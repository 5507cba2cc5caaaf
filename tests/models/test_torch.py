"""PyTorch models (TorchScript .pt and torch.export .pt2): an MLP trained here, saved both ways,
predicted by the registry's loaders and compared with the model's own forward."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from numerai_autopilot.errors import MissingExtraError, ModelError
from numerai_autopilot.models import declared_features, infer_format, load_predictor
from support.frames import FEATURES, spec_for
from support.torch_nn import forward, save_torch, torch_module, train_mlp

Train = tuple[pd.DataFrame, np.ndarray[Any, np.dtype[np.float64]]]
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def mlp(train: Train) -> Any:
    x, y = train
    return train_mlp(x.to_numpy(), y)


@pytest.fixture(scope="module")
def saved(mlp: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The one model saved every way the loaders take it."""
    d = tmp_path_factory.mktemp("torch")
    width = len(FEATURES)
    out = {
        "pt": d / "mlp.pt",
        "pt2": d / "mlp.pt2",
        "pt-named": d / "named.pt",
        "pt2-named": d / "named.pt2",
        "pt2-batch16": d / "batch16.pt2",
        "pt2-batch64": d / "batch64.pt2",
        "pt-float64": d / "double.pt",
        "pt2-float64": d / "double.pt2",
    }
    save_torch(mlp, out["pt"], width)
    save_torch(mlp, out["pt2"], width)
    save_torch(mlp, out["pt-named"], width, features=FEATURES)
    save_torch(mlp, out["pt2-named"], width, features=FEATURES)
    save_torch(mlp, out["pt2-batch16"], width, batch=16)
    save_torch(mlp, out["pt2-batch64"], width, batch=64)
    double = copy.deepcopy(mlp).double()
    save_torch(double, out["pt-float64"], width)
    save_torch(double, out["pt2-float64"], width, dtype="float64")
    return out


@pytest.fixture
def one_thread() -> Iterator[None]:
    torch = torch_module()
    before = torch.get_num_threads()
    os.environ["OMP_NUM_THREADS"] = "1"  # as the worker sets it for a model's process
    try:
        yield
    finally:
        del os.environ["OMP_NUM_THREADS"]
        torch.set_num_threads(before)


def _features_file(tmp_path: Path) -> str:
    path = tmp_path / "features.json"
    path.write_text(json.dumps(FEATURES))
    return str(path)


def _max_diff(got: pd.Series, expected: np.ndarray[Any, Any]) -> float:
    return float(np.max(np.abs(got.to_numpy() - expected)))


def test_suffixes_name_the_formats(tmp_path: Path) -> None:
    assert infer_format(spec_for("a", tmp_path / "m.pt")) == "torchscript"
    assert infer_format(spec_for("a", tmp_path / "m.pth")) == "torchscript"
    assert infer_format(spec_for("a", tmp_path / "m.pt2")) == "torch_export"


@pytest.mark.parametrize(
    "kind", ["pt", "pt2", "pt2-batch16", "pt2-batch64", "pt-float64", "pt2-float64"]
)
def test_predictions_are_the_models_own_forward_on_reordered_int8_live(
    kind: str, saved: dict[str, Path], mlp: Any, live: pd.DataFrame, tmp_path: Path
) -> None:
    # batchN: exported with a fixed batch of N rows, live has 60 (chunks, the last one padded);
    # float64: the same weights in double precision, fed float64 (within float32's rounding)
    spec = spec_for("nn", saved[kind], features=_features_file(tmp_path))
    shuffled = live[list(reversed(live.columns))]
    assert (shuffled[FEATURES].dtypes == np.int8).all()
    got = load_predictor(spec, None).predict(shuffled, None)
    expected = forward(mlp, live[FEATURES])
    assert list(got.index) == list(live.index)
    assert got.dtype == np.float64
    assert _max_diff(got, expected) < TOLERANCE
    assert got.std() > 0  # a real model, not a constant


@pytest.mark.parametrize("kind", ["pt-named", "pt2-named"])
def test_a_stored_features_file_orders_the_columns_without_a_setting(
    kind: str, saved: dict[str, Path], mlp: Any, live: pd.DataFrame
) -> None:
    # no `features` setting, and live has feature_unused: the stored list decides
    shuffled = live[list(reversed(live.columns))]
    got = load_predictor(spec_for("nn", saved[kind]), None).predict(shuffled, None)
    assert _max_diff(got, forward(mlp, live[FEATURES])) < TOLERANCE


def test_the_run_plans_its_columns_from_the_stored_features(saved: dict[str, Path]) -> None:
    # read from the archive without torch, so the run loads only these columns
    assert declared_features(spec_for("nn", saved["pt-named"]), None) == FEATURES
    assert declared_features(spec_for("nn", saved["pt2-named"]), None) == FEATURES
    assert declared_features(spec_for("nn", saved["pt2"]), None) is None  # saved without


def test_an_exported_programs_width_is_checked_before_predicting(
    saved: dict[str, Path], live: pd.DataFrame
) -> None:
    with pytest.raises(ModelError, match=r"'nn' takes 6 features but .* gives 7: set 'features'"):
        load_predictor(spec_for("nn", saved["pt2"]), None).predict(live, None)


def test_a_torchscript_width_mismatch_names_the_model_and_the_width(
    saved: dict[str, Path], live: pd.DataFrame
) -> None:
    with pytest.raises(ModelError) as info:
        load_predictor(spec_for("nn", saved["pt"]), None).predict(live, None)
    text = str(info.value)
    assert text.startswith("model 'nn': torch failed to predict on 7 features: RuntimeError: ")
    assert "(60x7 and 6x16)" in text  # torch's own words, not its interpreter's banner
    assert "its first Linear layer takes 6 features: set 'features'" in text


@pytest.mark.parametrize("what", ["state_dict", "module"])
def test_a_torch_save_file_says_how_to_save_the_model(what: str, mlp: Any, tmp_path: Path) -> None:
    torch = torch_module()
    path = tmp_path / "weights.pth"
    torch.save(mlp.state_dict() if what == "state_dict" else mlp, str(path))
    with pytest.raises(ModelError) as info:
        load_predictor(spec_for("nn", path), None)
    text = str(info.value)
    assert "written by torch.save" in text
    assert "torch.jit.save(torch.jit.script(model)" in text and "torch.export.save(" in text


def test_each_format_names_the_other_when_given_its_file(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    swapped = tmp_path / "program.pt"
    swapped.write_bytes(saved["pt2"].read_bytes())
    with pytest.raises(ModelError, match=r"torch_export file, not torchscript: name it \.pt2"):
        load_predictor(spec_for("nn", swapped), None)
    with pytest.raises(ModelError, match=r"torchscript file, not torch_export: name it \.pt "):
        load_predictor(spec_for("nn", saved["pt"], format="torch_export"), None)


@pytest.mark.parametrize("suffix", [".pt", ".pt2"])
def test_more_than_one_output_column_is_refused(
    suffix: str, train: Train, live: pd.DataFrame, tmp_path: Path
) -> None:
    x, y = train
    path = tmp_path / f"two{suffix}"
    save_torch(train_mlp(x.to_numpy(), y, outputs=2, epochs=1), path, len(FEATURES))
    spec = spec_for("nn", path, features=_features_file(tmp_path))
    with pytest.raises(ModelError, match=r"shape \[60, 2\]; one prediction column per row"):
        load_predictor(spec, None).predict(live, None)


def test_a_program_exported_in_training_mode_is_refused(mlp: Any, tmp_path: Path) -> None:
    torch = torch_module()
    model = torch.nn.Sequential(mlp, torch.nn.Dropout(0.2)).train()
    path = tmp_path / "train.pt2"
    save_torch(model, path, len(FEATURES))
    with pytest.raises(ModelError, match=r"exported in training mode .*dropout"):
        load_predictor(spec_for("nn", path), None)


def test_the_worker_thread_budget_bounds_torch(saved: dict[str, Path], one_thread: None) -> None:
    torch = torch_module()
    torch.set_num_threads(2)
    load_predictor(spec_for("nn", saved["pt2"]), None)
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("kind", ["pt", "pt2"])
def test_a_missing_torch_names_its_extra(
    kind: str, saved: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(MissingExtraError, match=r"pip install 'numerai-autopilot\[torch\]'"):
        load_predictor(spec_for("nn", saved[kind]), None)


@pytest.mark.parametrize("suffix", [".pt", ".pt2"])
def test_a_corrupt_file_is_one_model_error(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match=r"model 'nn': cannot load .*broken"):
        load_predictor(spec_for("nn", path), None)


def test_torch_that_cannot_map_under_a_memory_bound_is_out_of_memory(
    saved: dict[str, Path],
) -> None:
    # A fresh interpreter (as a portable-mode worker: torch not preloaded) bounded to 300 MB of
    # data beyond what it has: mapping torch's libraries fails inside the dynamic loader, an
    # ImportError that is really out of memory, and must be reported as the memory bound.
    script = f"""
import resource, sys
from pathlib import Path
from numerai_autopilot.models import load_predictor
from support.frames import spec_for
vm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmData:"))
base = int(vm.split()[1]) * 1024
resource.setrlimit(resource.RLIMIT_DATA, (base + 300 * 1024 * 1024, resource.RLIM_INFINITY))
try:
    load_predictor(spec_for("nn", Path({str(saved["pt"])!r})), None)
except MemoryError:
    print("MemoryError")
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "MemoryError"
