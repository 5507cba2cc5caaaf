"""Classic tournament files (v5.x): features.json, live, train, validation and their companions.

All versions share rows: the same ids, the same values for shared features and the same
targets, because older versions' features are a prefix of the newest ones' (as at Numerai).
The target is a hidden linear signal of a few dozen features plus noise, binned per era, so a
model trained on train.parquet scores positive correlation on validation.parquet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from . import _data_frames as fr
from ._data_names import CLASSIC_VERSIONS, feature_count, feature_sets, targets

Files = dict[str, bytes]

LIVE_FILES = (
    "live.parquet",
    "live_benchmark_models.parquet",
    "live_example_preds.parquet",
    "live_example_preds.csv",
)
TRAIN_FILES = ("train.parquet", "train_benchmark_models.parquet")
VALIDATION_FILES = (
    "validation.parquet",
    "validation_benchmark_models.parquet",
    "validation_example_preds.parquet",
    "validation_example_preds.csv",
    "meta_model.parquet",
)
FEATURE_FILES = ("features.json",)

# Benchmark models: (target stem, how noisy their view of the signal is).
_BENCHMARKS = (("cyrusd20", 1.2), ("ender20", 1.4), ("teager2b20", 1.6), ("agnes20", 1.8))


@dataclass(frozen=True)
class _Shape:
    live_rows: tuple[int, int]  # inclusive range; the count changes from round to round
    train_eras: int
    validation_eras: int
    era_rows: int
    informative: tuple[int, int, int]  # how many signal features come from small, medium, all


_SHAPES = {
    "tiny": _Shape((290, 310), 20, 10, 100, (4, 4, 4)),
    "full": _Shape((6700, 6900), 100, 40, 500, (8, 14, 14)),
}
_EMBARGO = 4  # eras between train and validation, as Numerai leaves a gap


class ClassicData:
    """Builds Classic files for one scale and seed; every method is deterministic."""

    def __init__(self, scale: str, seed: int) -> None:
        self.scale = scale
        self.seed = seed
        self.shape = _SHAPES[scale]
        self._max = feature_count(CLASSIC_VERSIONS[-1], scale)

    @functools.cached_property
    def _signal(self) -> tuple[fr.Array, fr.Array]:
        """Positions and weights of the features the target depends on (inside v5.0's list)."""
        oldest = CLASSIC_VERSIONS[0]
        sets = feature_sets(oldest, self.scale)
        index = {name: i for i, name in enumerate(sets["all"])}
        gen = fr.rng(self.seed, "informative")
        chosen: list[int] = []
        for set_name, n in zip(("small", "medium", "all"), self.shape.informative, strict=True):
            pool = [index[f] for f in sets[set_name] if index[f] not in chosen]
            chosen += gen.choice(pool, size=n, replace=False).tolist()
        # Weights of both signs, none negligible: every chosen feature matters.
        signs = np.where(gen.random(len(chosen)) < 0.5, -1.0, 1.0)
        return np.array(chosen), signs * (0.5 + gen.random(len(chosen)))

    def live_ids(self, round_number: int) -> list[str]:
        """This round's live ids: new every round, the same for the same round and seed."""
        gen = fr.rng(self.seed, "classic-live-ids", round_number)
        low, high = self.shape.live_rows
        return fr.hex_ids(gen, int(gen.integers(low, high + 1)))

    def features_json(self, version: str) -> Files:
        sets = feature_sets(version, self.scale)
        body = {"feature_sets": sets, "targets": [t.name for t in targets(version)]}
        return {"features.json": fr.json_bytes(body)}

    def _rows(self, version: str, stream: str, ids: list[str], era_size: int) -> _Rows:
        count = feature_count(version, self.scale)
        block = fr.feature_block(self.seed, stream, rows=len(ids), count=count, max_count=self._max)
        positions, weights = self._signal
        return _Rows(ids, block, fr.latent_signal(block, positions, weights), era_size)

    def live(self, version: str, round_number: int) -> Files:
        ids = self.live_ids(round_number)
        rows = self._rows(version, f"classic-live-{round_number}", ids, len(ids))
        data = self._frame(version, rows, ["X"] * len(ids), "live", with_targets=False)
        gen = fr.rng(self.seed, "classic-live-preds", round_number)
        preds = fr.ranked_prediction(rows.signal, 1.5, gen, len(ids))
        return {
            "live.parquet": data,
            "live_benchmark_models.parquet": self._benchmarks(version, rows, gen, None),
            "live_example_preds.parquet": _preds(ids, preds, None),
            "live_example_preds.csv": fr.csv_bytes(ids, ("id", "prediction"), preds),
        }

    def _era_rows(self, version: str, kind: str) -> tuple[_Rows, list[str]]:
        eras, first = (
            (self.shape.train_eras, 1)
            if kind == "train"
            else (self.shape.validation_eras, self.shape.train_eras + _EMBARGO + 1)
        )
        size = self.shape.era_rows
        ids = fr.hex_ids(fr.rng(self.seed, f"classic-{kind}-ids"), eras * size)
        era_names = [f"{first + e:04d}" for e in range(eras) for _ in range(size)]
        return self._rows(version, f"classic-{kind}", ids, size), era_names

    def train(self, version: str) -> Files:
        rows, eras = self._era_rows(version, "train")
        gen = fr.rng(self.seed, "classic-train-preds")
        return {
            "train.parquet": self._frame(version, rows, eras, "train", with_targets=True),
            "train_benchmark_models.parquet": self._benchmarks(version, rows, gen, eras),
        }

    def validation(self, version: str) -> Files:
        rows, eras = self._era_rows(version, "validation")
        gen = fr.rng(self.seed, "classic-validation-preds")
        preds = fr.ranked_prediction(rows.signal, 1.5, gen, rows.era_size)
        meta = fr.ranked_prediction(rows.signal, 1.0, gen, rows.era_size)
        return {
            "validation.parquet": self._frame(version, rows, eras, "validation", with_targets=True),
            "validation_benchmark_models.parquet": self._benchmarks(version, rows, gen, eras),
            "validation_example_preds.parquet": _preds(rows.ids, preds, None),
            "validation_example_preds.csv": fr.csv_bytes(rows.ids, ("id", "prediction"), preds),
            "meta_model.parquet": fr.parquet_bytes(
                fr.table({"era": eras, "numerai_meta_model": meta}, ("id", rows.ids))
            ),
        }

    def _frame(
        self, version: str, rows: _Rows, eras: list[str], data_type: str, *, with_targets: bool
    ) -> bytes:
        names = feature_sets(version, self.scale)["all"]
        columns: dict[str, fr.Array | list[str]] = {
            "era": eras,
            "data_type": [data_type] * len(eras),
        }
        columns.update(zip(names, rows.features, strict=True))
        gen = fr.rng(self.seed, f"classic-targets-{data_type}")
        common = gen.standard_normal(len(eras), dtype=np.float32) if with_targets else None
        for spec in targets(version):  # "target" comes first
            if common is None:
                columns[spec.name] = np.full(len(eras), np.nan, dtype=np.float32)
            elif spec.name == "target_cyrusd_20":
                # "target" is Numerai's alias of the main target: the same values.
                columns[spec.name] = columns["target"]
            else:
                columns[spec.name] = fr.binned_target(
                    rows.signal, spec.noise, gen, rows.era_size, common
                )
        return fr.parquet_bytes(fr.table(columns, ("id", rows.ids)))

    def _benchmarks(
        self, version: str, rows: _Rows, gen: np.random.Generator, eras: list[str] | None
    ) -> bytes:
        prefix = "v" + version[1:].replace(".", "")
        columns: dict[str, fr.Array | list[str]] = {} if eras is None else {"era": eras}
        for stem, noise in _BENCHMARKS:
            columns[f"{prefix}_lgbm_{stem}"] = fr.ranked_prediction(
                rows.signal, noise, gen, rows.era_size
            )
        return fr.parquet_bytes(fr.table(columns, ("id", rows.ids)))


@dataclass(frozen=True)
class _Rows:
    ids: list[str]
    features: fr.Array  # (features, rows) int8
    signal: fr.Array  # (rows,) float32, unit variance
    era_size: int


def _preds(ids: list[str], values: fr.Array, eras: list[str] | None) -> bytes:
    columns: dict[str, fr.Array | list[str]] = {} if eras is None else {"era": eras}
    columns["prediction"] = values
    return fr.parquet_bytes(fr.table(columns, ("id", ids)))
