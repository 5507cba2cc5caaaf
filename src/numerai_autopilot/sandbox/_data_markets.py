"""Signals and Crypto files: a live universe that drifts slowly from round to round, a few
quantised features, example predictions and small train/validation (or target) files.
"""

from __future__ import annotations

import numpy as np

from . import _data_frames as fr
from ._data_names import (
    CRYPTO_FEATURES,
    PINNED_SYMBOLS,
    PINNED_TICKERS,
    SIGNALS_FEATURES,
    symbol_pool,
    ticker_pool,
)

Files = dict[str, bytes]

SIGNALS_LIVE_FILES = ("live.parquet", "live_example_preds.parquet")
SIGNALS_TRAIN_FILES = ("train.parquet",)
SIGNALS_VALIDATION_FILES = ("validation.parquet", "validation_example_preds.parquet")
CRYPTO_LIVE_FILES = ("live.parquet", "live_example_preds.parquet")
CRYPTO_TRAIN_FILES = ("train_targets.parquet",)

# (universe size, pool size) per scale: a member is live in a share of rounds, so the universe
# changes by about a tenth of a percent a round, like stocks listing and delisting.
_SIGNALS_UNIVERSE = {"tiny": (400, 600), "full": (6000, 9000)}
_CRYPTO_UNIVERSE = {"tiny": (150, 225), "full": (300, 450)}
_CYCLE = 2000  # rounds after which a member's listing pattern repeats
_SIGNALS_FEATURES_BY_VERSION = {"v2.0": 12, "v2.1": len(SIGNALS_FEATURES)}
# (eras, rows per era) of the history files
_HISTORY = {"tiny": (20, 100), "full": (60, 500)}


def _universe(
    seed: int, stream: str, *, pool: tuple[str, ...], pinned: int, size: int, round_number: int
) -> list[str]:
    phases = fr.rng(seed, stream).integers(0, _CYCLE, size=len(pool))
    window = _CYCLE * (size - pinned) / (len(pool) - pinned)
    live = (round_number + phases) % _CYCLE < window
    live[:pinned] = True  # the well-known names never leave
    return sorted(np.asarray(pool)[live].tolist())


def _signal(features: fr.Array, seed: int, stream: str) -> fr.Array:
    gen = fr.rng(seed, stream)
    positions = np.arange(min(6, features.shape[0]))
    return fr.latent_signal(features, positions, gen.standard_normal(positions.size))


class MarketsData:
    """Builds Signals and Crypto files for one scale and seed; deterministic."""

    def __init__(self, scale: str, seed: int) -> None:
        self.scale = scale
        self.seed = seed

    # Signals -------------------------------------------------------------------------------
    def signals_universe(self, round_number: int) -> list[str]:
        """This round's Signals tickers, sorted; mostly the same as the previous round's."""
        size, pool = _SIGNALS_UNIVERSE[self.scale]
        return _universe(
            self.seed,
            "signals-universe",
            pool=ticker_pool(pool),
            pinned=len(PINNED_TICKERS),
            size=size,
            round_number=round_number,
        )

    def signals_live(self, version: str, round_number: int) -> Files:
        tickers = self.signals_universe(round_number)
        count = _SIGNALS_FEATURES_BY_VERSION[version]
        block = fr.feature_block(
            self.seed,
            f"signals-live-{round_number}",
            rows=len(tickers),
            count=count,
            max_count=len(SIGNALS_FEATURES),
        )
        columns: dict[str, fr.Array | list[str]] = {
            "numerai_ticker": tickers,
            "data_type": ["live"] * len(tickers),
        }
        columns.update(zip(SIGNALS_FEATURES[:count], block, strict=True))
        gen = fr.rng(self.seed, "signals-live-preds", round_number)
        signal = _signal(block, self.seed, "signals-weights")
        preds = fr.ranked_prediction(signal, 1.5, gen, len(tickers))
        return {
            "live.parquet": fr.parquet_bytes(fr.table(columns)),
            "live_example_preds.parquet": fr.parquet_bytes(
                fr.table({"numerai_ticker": tickers, "signal": preds})
            ),
        }

    def _signals_history(
        self, version: str, kind: str
    ) -> tuple[dict[str, fr.Array | list[str]], fr.Array]:
        eras, per_era = _HISTORY[self.scale]
        first = 1 if kind == "train" else eras + 5
        pool = ticker_pool(_SIGNALS_UNIVERSE[self.scale][1])
        gen = fr.rng(self.seed, f"signals-{kind}-tickers")
        tickers = [
            pool[i] for _ in range(eras) for i in gen.choice(len(pool), per_era, replace=False)
        ]
        count = _SIGNALS_FEATURES_BY_VERSION[version]
        block = fr.feature_block(
            self.seed,
            f"signals-{kind}",
            rows=eras * per_era,
            count=count,
            max_count=len(SIGNALS_FEATURES),
        )
        signal = _signal(block, self.seed, "signals-weights")
        era_names = [f"{first + e:04d}" for e in range(eras) for _ in range(per_era)]
        columns: dict[str, fr.Array | list[str]] = {
            "numerai_ticker": tickers,
            "era": era_names,
            "data_type": [kind] * len(tickers),
        }
        columns.update(zip(SIGNALS_FEATURES[:count], block, strict=True))
        target_gen = fr.rng(self.seed, f"signals-{kind}-target")
        columns["target"] = fr.binned_target(signal, 2.5, target_gen, per_era)
        return columns, signal

    def signals_train(self, version: str) -> Files:
        columns, _ = self._signals_history(version, "train")
        return {"train.parquet": fr.parquet_bytes(fr.table(columns))}

    def signals_validation(self, version: str) -> Files:
        columns, signal = self._signals_history(version, "validation")
        per_era = _HISTORY[self.scale][1]
        preds = fr.ranked_prediction(signal, 1.5, fr.rng(self.seed, "signals-val-preds"), per_era)
        example = {
            "numerai_ticker": columns["numerai_ticker"],
            "era": columns["era"],
            "signal": preds,
        }
        return {
            "validation.parquet": fr.parquet_bytes(fr.table(columns)),
            "validation_example_preds.parquet": fr.parquet_bytes(fr.table(example)),
        }

    # Crypto --------------------------------------------------------------------------------
    def crypto_universe(self, round_number: int) -> list[str]:
        """This round's crypto symbols, sorted; BTC, ETH and the other majors always in."""
        size, pool = _CRYPTO_UNIVERSE[self.scale]
        return _universe(
            self.seed,
            "crypto-universe",
            pool=symbol_pool(pool),
            pinned=len(PINNED_SYMBOLS),
            size=size,
            round_number=round_number,
        )

    def crypto_live(self, round_number: int) -> Files:
        symbols = self.crypto_universe(round_number)
        n = len(CRYPTO_FEATURES)
        block = fr.feature_block(
            self.seed, f"crypto-live-{round_number}", rows=len(symbols), count=n, max_count=n
        )
        columns: dict[str, fr.Array | list[str]] = {"symbol": symbols}
        columns.update(zip(CRYPTO_FEATURES, block, strict=True))
        signal = _signal(block, self.seed, "crypto-weights")
        gen = fr.rng(self.seed, "crypto-live-preds", round_number)
        preds = fr.ranked_prediction(signal, 1.5, gen, len(symbols))
        return {
            "live.parquet": fr.parquet_bytes(fr.table(columns)),
            "live_example_preds.parquet": fr.parquet_bytes(
                fr.table({"symbol": symbols, "prediction": preds})
            ),
        }

    def crypto_train(self) -> Files:
        eras, _ = _HISTORY[self.scale]
        symbols = list(symbol_pool(_CRYPTO_UNIVERSE[self.scale][0]))
        # Weekly Fridays from 2020-01-03: Crypto history is keyed by date, not era.
        dates = np.datetime64("2020-01-03") + 7 * np.arange(eras)
        rows = eras * len(symbols)
        gen = fr.rng(self.seed, "crypto-train-target")
        target = fr.binned_target(
            gen.standard_normal(rows, dtype=np.float32), 1.0, gen, len(symbols)
        )
        columns: dict[str, fr.Array | list[str]] = {
            "symbol": symbols * eras,
            "date": [str(d) for d in dates for _ in symbols],
            "target": target,
        }
        return {"train_targets.parquet": fr.parquet_bytes(fr.table(columns))}
