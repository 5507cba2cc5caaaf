"""Vectorised building blocks of the synthetic data: seeded streams, ids, quantised features,
per-era binned targets and ranked predictions, and Parquet tables that pandas reads back with
the right index.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ._data_names import stable_int

Array: TypeAlias = np.ndarray[Any, np.dtype[Any]]
FloatArray: TypeAlias = Array
Table: TypeAlias = Any  # pyarrow ships no type hints

# Gaussian quintile edges: features are equal-frequency bins 0..4, as Numerai's are.
_QUINTILE_EDGES = np.array([-0.8416212, -0.2533471, 0.2533471, 0.8416212], dtype=np.float32)
# Numerai's target distribution: 5 bins of 5%, 20%, 50%, 20%, 5% per era.
_TARGET_EDGES = np.array([0.05, 0.25, 0.75, 0.95])
_LOW_RANK = 8  # shared factors, so features correlate in groups like real ones


def rng(seed: int, *parts: str | int) -> np.random.Generator:
    """A generator for one named stream; the same seed and parts always give the same draws."""
    words = [p if isinstance(p, int) else stable_int(p) for p in parts]
    return np.random.default_rng([seed, *words])


def hex_ids(gen: np.random.Generator, count: int) -> list[str]:
    """``count`` distinct Numerai-style ids: "n" followed by 15 hex digits."""
    values = np.unique(gen.integers(0, 1 << 60, size=count, dtype=np.uint64))
    while values.size < count:  # a 60-bit collision: practically never more than one pass
        extra = gen.integers(0, 1 << 60, size=count - values.size, dtype=np.uint64)
        values = np.unique(np.concatenate([values, extra]))
    gen.shuffle(values)  # unique() sorts; Numerai's files are not sorted by id
    return [f"n{v:015x}" for v in values.tolist()]


def feature_block(
    seed: int, stream: str, *, rows: int, count: int, max_count: int, chunk: int = 4096
) -> Array:
    """Feature values, shape (count, rows), int8 in 0..4, equal-frequency bins.

    Feature j is a fixed mix of a few shared factors plus its own noise, so features correlate
    like real ones. Drawing column-major per chunk makes a smaller ``count`` a prefix of a
    larger one: older versions see the same values for the features they share.
    """
    loadings = rng(seed, "loadings").standard_normal((max_count, _LOW_RANK), dtype=np.float32)
    loadings *= np.float32(0.35)
    scale = 1.0 / np.sqrt(1.0 + np.square(loadings[:count]).sum(axis=1, keepdims=True))
    out = np.empty((count, rows), dtype=np.int8)
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        gen = rng(seed, stream, start)
        factors = gen.standard_normal((_LOW_RANK, stop - start), dtype=np.float32)
        values = gen.standard_normal((count, stop - start), dtype=np.float32)
        values += loadings[:count] @ factors
        values *= scale.astype(np.float32)
        view = out[:, start:stop]
        np.less(_QUINTILE_EDGES[0], values, out=view, casting="unsafe")
        for edge in _QUINTILE_EDGES[1:]:
            view += values > edge
    return out


def latent_signal(features: Array, positions: Array, weights: Array) -> FloatArray:
    """The hidden linear signal: a weighted sum of a few centred features, unit variance."""
    picked = features[positions].astype(np.float32) - np.float32(2.0)
    signal: FloatArray = weights.astype(np.float32) @ picked
    std = float(signal.std()) or 1.0
    return signal / np.float32(std)


def _ranks_by_era(values: FloatArray, era_size: int) -> FloatArray:
    """Ranks in (0, 1) within consecutive blocks of ``era_size`` rows."""
    blocks = values.reshape(-1, era_size)
    order = blocks.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable")
    return ((order + 0.5) / era_size).reshape(-1)


def binned_target(
    signal: FloatArray,
    noise: float,
    gen: np.random.Generator,
    era_size: int,
    common: FloatArray | None = None,
) -> FloatArray:
    """Signal plus noise, binned per era into {0, .25, .5, .75, 1} at 5/20/50/20/5 %, float32.

    With ``common`` (unit-variance noise shared by several targets) most of the noise is
    shared, so targets correlate with each other the way Numerai's do.
    """
    own = gen.standard_normal(signal.size, dtype=np.float32)
    if common is not None:
        own = np.float32(0.8) * common + np.float32(0.6) * own
    latent = signal + np.float32(noise) * own
    bins = np.searchsorted(_TARGET_EDGES, _ranks_by_era(latent, era_size))
    return (bins * 0.25).astype(np.float32)


def ranked_prediction(
    signal: FloatArray, noise: float, gen: np.random.Generator, era_size: int
) -> FloatArray:
    """A prediction that knows part of the signal: ranks in (0, 1) per era, float32."""
    latent = signal + np.float32(noise) * gen.standard_normal(signal.size, dtype=np.float32)
    return _ranks_by_era(latent, era_size).astype(np.float32)


def table(
    columns: Mapping[str, Array | list[str]], index: tuple[str, list[str]] | None = None
) -> Table:
    """An Arrow table from column arrays, with pandas metadata making ``index`` the index.

    Built column by column (no wide pandas frame copied): the metadata comes from a one-row
    frame of the same dtypes, so pandas reads the file back exactly as if it had written it.
    """
    names = ([index[0]] if index else []) + list(columns)
    arrays = ([pa.array(index[1], pa.string())] if index else []) + [
        pa.array(v, pa.string()) if isinstance(v, list) else pa.array(v) for v in columns.values()
    ]
    sample = pd.DataFrame({k: v[:1] for k, v in columns.items()})
    if index:
        sample.index = pd.Index(index[1][:1], name=index[0])
    meta = pa.Table.from_pandas(sample, preserve_index=bool(index)).schema.metadata
    built: Table = pa.Table.from_arrays(arrays, names=names).replace_schema_metadata(meta)
    return built


def parquet_bytes(data: Table) -> bytes:
    """The table as Parquet bytes; deterministic for the same table and library versions."""
    sink = io.BytesIO()
    pq.write_table(data, sink, compression="snappy")
    return sink.getvalue()


def csv_bytes(ids: list[str], header: tuple[str, str], values: FloatArray) -> bytes:
    """A two-column CSV (id, value), the shape of Numerai's example predictions."""
    lines = [f"{header[0]},{header[1]}"]
    lines += [f"{i},{v:.6f}" for i, v in zip(ids, values.tolist(), strict=True)]
    return ("\n".join(lines) + "\n").encode()


def json_bytes(value: object) -> bytes:
    """Pretty JSON like Numerai's features.json."""
    return json.dumps(value, indent=2).encode()
