"""An artifact is looked at once, and a file of another format is refused by its magic bytes."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from numerai_autopilot.config import ModelSpec
from numerai_autopilot.errors import ArtifactChangedError, ModelError
from numerai_autopilot.run.resolve import problem_of, resolve
from numerai_autopilot.tournaments import Tournament


def spec(path: Path, fmt: str | None = None, **kw: object) -> ModelSpec:
    return ModelSpec(name="m", tournament=Tournament.CLASSIC, format=fmt, artifact=path, **kw)  # type: ignore[arg-type]


PICKLE = pickle.dumps({"a": 1})


@pytest.mark.parametrize(
    ("name", "body", "fmt", "problem"),
    [
        ("m.pkl", PICKLE, "lightgbm", "m.pkl is not a lightgbm model file"),
        ("m.pkl", PICKLE, "catboost", "m.pkl is not a catboost model file"),
        ("m.json", PICKLE, None, "m.json is not a xgboost model file"),
        ("m.pkl", b"tree\nversion=v4\n", "pickle", "m.pkl looks like a lightgbm file, not pickle"),
        ("m.joblib", b"CBM1....", "joblib", "m.joblib looks like a catboost file, not joblib"),
        ("p.parquet", b"id,prediction\n", None, "p.parquet is not a parquet file"),
        ("p.csv", b"PAR1....", None, None),  # a parquet file named .csv still reads
        ("m.txt", b"tree\nversion=v4\n", None, None),
        ("m.ubj", b"{L\x00\x00", None, None),
        ("m.cbm", b"CBM1....", None, None),
        ("m.pkl", PICKLE, None, None),
    ],
)
def test_magic_bytes_decide(
    tmp_path: Path, name: str, body: bytes, fmt: str | None, problem: str | None
) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    found = problem_of(spec(path, fmt))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and "model 'm'" in found


def test_resolved_spec_has_its_format_set_and_its_verified_pin_cleared(tmp_path: Path) -> None:
    path = tmp_path / "model.txt"
    path.write_bytes(b"tree\nversion=v4\n")
    pin = hashlib.sha256(path.read_bytes()).hexdigest()
    r = resolve(spec(path, sha256=pin))
    assert (r.fmt, r.spec.format, r.spec.sha256, r.benchmarks) == (
        "lightgbm",
        "lightgbm",
        None,
        False,
    )
    path.write_bytes(b"tree\nversion=v5\n")
    with pytest.raises(ArtifactChangedError, match="pins"):
        resolve(spec(path, sha256=pin))


def test_missing_artifact_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve(spec(tmp_path / "gone.pkl"))
