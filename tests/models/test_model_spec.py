"""The cheap questions the run asks before any model is loaded: format, features, benchmarks,
artifact pin; none of them imports a model library."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from numerai_autopilot.errors import ArtifactChangedError, ConfigError, ModelError
from numerai_autopilot.models import (
    declared_features,
    infer_format,
    needs_benchmarks,
    verify_artifact,
)
from support.frames import FEATURES, spec_for

LGB_HEADER = (
    "tree\nversion=v4\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\n"
    "max_feature_idx=2\nobjective=regression\n"
    "feature_names=feature_zeta feature_alpha feature_mid\n"
    "feature_infos=[0:4] [0:4] [0:4]\ntree_sizes=1\n\nTree=0\n"
)


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("model.txt", LGB_HEADER, "lightgbm"),
        ("model.lgb", LGB_HEADER, "lightgbm"),  # sniffed, whatever the extension
        ("m.json", "{}", "xgboost"),
        ("m.ubj", b"{", "xgboost"),
        ("m.cbm", b"CBM1....", "catboost"),
        ("m.bin", b"CBM1....", "catboost"),
        ("m.onnx", b"\x08\x07", "onnx"),
        ("m.pkl", b"\x80\x05", "pickle"),
        ("m.pickle", b"\x80\x05", "pickle"),
        ("m.cloudpickle", b"\x80\x05", "pickle"),
        ("m.joblib", b"\x80\x05", "joblib"),
        ("preds.csv", "id,prediction\n", "predictions"),
        ("preds.parquet", b"PAR1", "predictions"),
    ],
)
def test_format_is_inferred_from_content_and_extension(
    tmp_path: Path, name: str, content: str | bytes, expected: str
) -> None:
    assert infer_format(spec_for("m", write(tmp_path / name, content))) == expected


def test_explicit_format_wins_and_entrypoint_needs_no_file(tmp_path: Path) -> None:
    path = write(tmp_path / "m.txt", LGB_HEADER)
    assert infer_format(spec_for("m", path, format="function")) == "function"
    assert infer_format(spec_for("e", None, entrypoint="pkg.mod:predict")) == "entrypoint"
    assert infer_format(spec_for("b", None, blend={"a": 1.0})) == "blend"


def test_unknown_format_is_a_config_error_naming_the_model(tmp_path: Path) -> None:
    # (.h5 was the example of an unknown kind until Keras became a format: now .safetensors)
    path = write(tmp_path / "weights.safetensors", b"\x89HDF")
    with pytest.raises(ConfigError, match=r"model 'kerasy'.*weights\.safetensors.*set format"):
        infer_format(spec_for("kerasy", path))


def test_missing_artifact_of_unknown_kind_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"artifact .*gone\.bin does not exist"):
        infer_format(spec_for("gone", tmp_path / "gone.bin"))


def test_declared_features_read_the_lightgbm_header_in_order(tmp_path: Path) -> None:
    spec = spec_for("m", write(tmp_path / "m.txt", LGB_HEADER), features="small")
    # The model's own list wins over the configured set: it is what the loader will select.
    assert declared_features(spec, {"small": FEATURES}) == [
        "feature_zeta",
        "feature_alpha",
        "feature_mid",
    ]


def test_declared_features_read_xgboost_json_names(tmp_path: Path) -> None:
    doc = {"learner": {"feature_names": ["feature_b", "feature_a"], "feature_types": []}}
    spec = spec_for("x", write(tmp_path / "x.json", json.dumps(doc)))
    assert declared_features(spec, None) == ["feature_b", "feature_a"]


def test_placeholder_names_fall_back_to_the_configured_features(tmp_path: Path) -> None:
    header = LGB_HEADER.replace(
        "feature_zeta feature_alpha feature_mid", "Column_0 Column_1 Column_2"
    )
    spec = spec_for("m", write(tmp_path / "m.txt", header), features="small")
    assert declared_features(spec, {"small": FEATURES[:3]}) == FEATURES[:3]
    assert declared_features(replace(spec, features=None), None) is None


def test_declared_features_from_json_and_text_files(tmp_path: Path) -> None:
    pkl = write(tmp_path / "m.pkl", b"\x80\x05")
    as_json = write(tmp_path / "f.json", json.dumps(["feature_b", "feature_a"]))
    as_text = write(tmp_path / "f.txt", "# trained on\nfeature_c\n\nfeature_a\n")
    assert declared_features(spec_for("m", pkl, features=str(as_json)), None) == [
        "feature_b",
        "feature_a",
    ]
    assert declared_features(spec_for("m", pkl, features=str(as_text)), None) == [
        "feature_c",
        "feature_a",
    ]
    assert declared_features(spec_for("m", pkl), None) is None


def test_feature_set_name_without_features_json_is_a_config_error(tmp_path: Path) -> None:
    spec = spec_for("m", write(tmp_path / "m.pkl", b"\x80\x05"), features="medium")
    with pytest.raises(ConfigError, match="'medium' is a feature set name"):
        declared_features(spec, None)
    with pytest.raises(ConfigError, match="no feature set 'medium'"):
        declared_features(spec, {"small": FEATURES})


def test_only_function_like_formats_need_benchmarks(tmp_path: Path) -> None:
    assert needs_benchmarks(spec_for("p", write(tmp_path / "m.pkl", b"\x80")))
    assert needs_benchmarks(spec_for("e", None, entrypoint="m:predict"))
    assert not needs_benchmarks(spec_for("l", write(tmp_path / "m.txt", LGB_HEADER)))
    assert not needs_benchmarks(spec_for("o", write(tmp_path / "m.onnx", b"\x08")))


def test_sha256_pin_refuses_a_changed_artifact(tmp_path: Path) -> None:
    path = write(tmp_path / "m.txt", LGB_HEADER)
    good = hashlib.sha256(LGB_HEADER.encode()).hexdigest()
    verify_artifact(spec_for("m", path, sha256=good))
    verify_artifact(spec_for("m", path))  # no pin: nothing to compare
    write(path, LGB_HEADER + "\n")
    with pytest.raises(ArtifactChangedError, match=f"model 'm'.*pins {good}"):
        verify_artifact(spec_for("m", path, sha256=good))


def test_missing_artifact_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"artifact .*nowhere\.txt does not exist"):
        verify_artifact(spec_for("m", tmp_path / "nowhere.txt"))


def test_planning_imports_no_model_library(tmp_path: Path) -> None:
    write(tmp_path / "m.txt", LGB_HEADER)
    code = f"""
import sys
from pathlib import Path
from numerai_autopilot.config import ModelSpec
from numerai_autopilot.tournaments import Tournament
from numerai_autopilot.models import declared_features, infer_format, needs_benchmarks
import numerai_autopilot.run.worker, numerai_autopilot.run.validate, numerai_autopilot.run.blend
spec = ModelSpec("m", Tournament.CLASSIC, None, Path({str(tmp_path / "m.txt")!r}))
assert infer_format(spec) == "lightgbm" and declared_features(spec, None)
needs_benchmarks(spec)
heavy = {{"lightgbm", "xgboost", "catboost", "onnxruntime", "sklearn", "torch"}} & set(sys.modules)
assert not heavy, heavy
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
