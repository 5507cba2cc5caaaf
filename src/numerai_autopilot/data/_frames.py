"""Reading Numerai's files: parquet with column projection, features.json."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import DataError, UnreadableDataError

_SHOW = 8


def load_frame(
    path: Path, *, columns: Sequence[str] | None = None, index: str | None = None
) -> pd.DataFrame:
    """Read a parquet file, only ``columns`` (all when None) in that order, plus ``index``.

    Only the requested columns are read from disk (pyarrow projection). ``index`` becomes the
    frame's index, whether it is a column or already the stored pandas index. Column dtypes are
    kept (features stay int8). DataError names the file and the missing columns."""
    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableDataError(f"{path}: not a readable parquet file ({exc})") from exc
    read: list[str] | None = None
    if columns is not None:
        wanted = list(dict.fromkeys(columns))
        missing = [c for c in wanted if c not in names]
        if missing:
            more = f" and {len(missing) - _SHOW} more" if len(missing) > _SHOW else ""
            raise DataError(
                f"{path}: lacks {len(missing)} requested column(s): "
                f"{', '.join(missing[:_SHOW])}{more}"
            )
        read = wanted + ([index] if index and index in names and index not in wanted else [])
    try:
        # use_pandas_metadata: a stored pandas index (live.parquet's ``id``) comes along.
        table = pf.read(columns=read, use_pandas_metadata=True)
        frame: pd.DataFrame = table.to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableDataError(f"{path}: cannot read ({exc})") from exc
    if index is not None:
        if index in frame.columns:
            frame = frame.set_index(index)
        elif frame.index.name != index:
            raise DataError(f"{path}: no column or index named {index!r}")
    if columns is not None:
        frame = frame[[c for c in dict.fromkeys(columns) if c in frame.columns]]
    return frame


def read_feature_sets(path: Path) -> dict[str, list[str]]:
    """``feature_sets`` of a features.json: set name -> ordered feature names."""
    try:
        doc: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, ValueError) as exc:
        raise UnreadableDataError(f"{path}: not readable JSON ({exc})") from exc
    sets = doc.get("feature_sets") if isinstance(doc, dict) else None
    if not isinstance(sets, dict):
        raise DataError(f"{path}: no 'feature_sets' object")
    out: dict[str, list[str]] = {}
    for name, feats in sets.items():
        if not isinstance(feats, list) or not all(isinstance(f, str) for f in feats):
            raise DataError(f"{path}: feature set {name!r} is not a list of column names")
        out[str(name)] = list(feats)
    return out
