"""Parquet loading reads only the needed columns, keeps int8, and names what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from numerai_autopilot.data import load_frame, read_feature_sets
from numerai_autopilot.errors import DataError


@pytest.fixture
def live(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    ids = [f"n{i:015x}" for i in range(50)]
    frame = pd.DataFrame(
        {f"feature_{n}": rng.integers(0, 5, 50).astype("int8") for n in ("a", "b", "c", "d")},
        index=pd.Index(ids, name="id"),
    )
    frame.insert(0, "era", "X")
    frame["target"] = np.nan
    path = tmp_path / "live.parquet"
    frame.to_parquet(path)
    return path


def test_projection_reads_only_requested_columns_in_their_order(live: Path) -> None:
    frame = load_frame(live, columns=["feature_c", "feature_a"], index="id")
    assert list(frame.columns) == ["feature_c", "feature_a"]
    assert frame.index.name == "id"
    assert len(frame) == 50
    assert all(dtype == np.int8 for dtype in frame.dtypes)


def test_projection_is_done_by_pyarrow_not_after_a_full_read(
    live: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    original = pq.ParquetFile.read

    def spy(self: pq.ParquetFile, columns: object = None, **kw: object) -> object:
        asked.append(columns)
        return original(self, columns=columns, **kw)

    monkeypatch.setattr(pq.ParquetFile, "read", spy)
    load_frame(live, columns=["feature_b"], index="id")
    assert asked == [["feature_b", "id"]]  # the stored index comes along, nothing else


def test_index_given_as_a_plain_column_becomes_the_index(tmp_path: Path) -> None:
    path = tmp_path / "universe.parquet"
    pd.DataFrame({"numerai_ticker": ["A US", "B US"], "x": [1, 2]}).to_parquet(path, index=False)
    frame = load_frame(path, columns=["x"], index="numerai_ticker")
    assert frame.index.tolist() == ["A US", "B US"]
    assert list(frame.columns) == ["x"]


def test_missing_columns_are_named(live: Path) -> None:
    with pytest.raises(DataError, match=r"lacks 2 requested column\(s\): feature_zz, feature_yy"):
        load_frame(live, columns=["feature_a", "feature_zz", "feature_yy"])


def test_corrupt_file_raises_data_error(tmp_path: Path, live: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(live.read_bytes()[: live.stat().st_size // 2])
    with pytest.raises(DataError, match=r"bad\.parquet"):
        load_frame(bad)
    with pytest.raises(DataError, match="no such file"):
        load_frame(tmp_path / "absent.parquet")


def test_feature_sets_are_read_and_malformed_files_refused(tmp_path: Path) -> None:
    good = tmp_path / "features.json"
    good.write_text(json.dumps({"feature_sets": {"small": ["f1", "f2"]}, "targets": ["t"]}))
    assert read_feature_sets(good) == {"small": ["f1", "f2"]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"feature_sets": {"small": "f1"}}))
    with pytest.raises(DataError, match="'small'"):
        read_feature_sets(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not readable JSON"):
        read_feature_sets(bad)
