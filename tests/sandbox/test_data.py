"""The sandbox's synthetic datasets: Numerai's shapes, determinism, caching, thread safety."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numerai_tools.submissions import (
    validate_submission_crypto,
    validate_submission_numerai,
    validate_submission_signals,
)

from numerai_autopilot.errors import DataError, NotFoundError
from numerai_autopilot.sandbox.data import SyntheticData

CLASSIC, SIGNALS, CRYPTO = 8, 11, 12
ROUND = 1234
log = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyntheticData]:
    """One tiny dataset shared by the read-only tests (generation is cached on disk)."""
    with SyntheticData("tiny", seed=7, cache_dir=tmp_path_factory.mktemp("cache")) as d:
        yield d


def read(
    data: SyntheticData, tournament: int, name: str, round_number: int = ROUND
) -> pd.DataFrame:
    return pd.read_parquet(data.dataset_path(tournament, round_number, name))


def test_lists_dataset_names_exactly_like_numerai(data: SyntheticData) -> None:
    classic = data.list_datasets(CLASSIC)
    assert {n for n in classic if n.startswith("v5.2/")} == {
        f"v5.2/{f}"
        for f in (
            "features.json",
            "live.parquet",
            "live_benchmark_models.parquet",
            "live_example_preds.parquet",
            "live_example_preds.csv",
            "train.parquet",
            "validation.parquet",
            "validation_example_preds.parquet",
            "validation_example_preds.csv",
            "meta_model.parquet",
            "train_benchmark_models.parquet",
            "validation_benchmark_models.parquet",
        )
    }
    assert {n.split("/")[0] for n in classic} == {"v5.0", "v5.1", "v5.2", "v5.3"}
    assert {n.removeprefix("v5.3/") for n in classic if n.startswith("v5.3/")} == {
        n.removeprefix("v5.2/") for n in classic if n.startswith("v5.2/")
    }
    assert "signals/v2.1/live.parquet" in data.list_datasets(SIGNALS)
    assert "signals/v2.0/live.parquet" in data.list_datasets(SIGNALS)
    assert "signals/v2.1/live_example_preds.parquet" in data.list_datasets(SIGNALS)
    assert set(data.list_datasets(CRYPTO)) >= {
        "crypto/v2.0/live.parquet",
        "crypto/v2.0/train_targets.parquet",
    }
    assert classic == sorted(classic)


def test_same_seed_and_round_give_identical_bytes(tmp_path: Path) -> None:
    names = [
        (CLASSIC, "v5.2/features.json"),
        (CLASSIC, "v5.2/live.parquet"),
        (CLASSIC, "v5.2/live_example_preds.csv"),
        (CLASSIC, "v5.1/train.parquet"),
        (SIGNALS, "signals/v2.1/live.parquet"),
        (CRYPTO, "crypto/v2.0/live.parquet"),
    ]
    with (
        SyntheticData("tiny", seed=3, cache_dir=tmp_path / "a") as a,
        SyntheticData("tiny", seed=3, cache_dir=tmp_path / "b") as b,
        SyntheticData("tiny", seed=4, cache_dir=tmp_path / "c") as c,
    ):
        for tournament, name in names:
            first = a.dataset_path(tournament, 50, name).read_bytes()
            assert first == b.dataset_path(tournament, 50, name).read_bytes(), name
        # another seed is other data (the names, and so features.json, stay the same)
        live = "v5.2/live.parquet"
        assert a.dataset_path(CLASSIC, 50, live).read_bytes() != (
            c.dataset_path(CLASSIC, 50, live).read_bytes()
        )


def test_live_ids_are_new_every_round_and_stable_within_a_round(
    data: SyntheticData, tmp_path: Path
) -> None:
    this_round = data.live_ids(CLASSIC, ROUND)
    next_round = data.live_ids(CLASSIC, ROUND + 1)
    assert not set(this_round) & set(next_round)
    assert len(set(this_round)) == len(this_round)
    assert all(re.fullmatch(r"n[0-9a-f]{15}", i) for i in this_round)
    with SyntheticData("tiny", seed=7, cache_dir=tmp_path) as again:
        assert again.live_ids(CLASSIC, ROUND) == this_round
    assert read(data, CLASSIC, "v5.2/live.parquet").index.tolist() == this_round
    # every version's live file holds the same rows
    assert read(data, CLASSIC, "v5.0/live.parquet").index.tolist() == this_round


def test_live_parquet_has_numerai_columns_dtypes_and_ranges(data: SyntheticData) -> None:
    live = read(data, CLASSIC, "v5.2/live.parquet")
    features = data.feature_sets("v5.2")["all"]
    body = json.loads(data.dataset_path(CLASSIC, ROUND, "v5.2/features.json").read_text())
    targets = body["targets"]
    assert live.index.name == "id"
    assert list(live.columns) == ["era", "data_type", *features, *targets]
    assert 290 <= len(live) <= 310
    assert (live["era"] == "X").all()
    assert (live["data_type"] == "live").all()
    values = live[features]
    assert set(values.dtypes) == {np.dtype("int8")}
    assert values.min().min() == 0
    assert values.max().max() == 4
    # equal-frequency bins, like Numerai's features
    shares = np.bincount(values.to_numpy().ravel(), minlength=5) / values.size
    assert np.allclose(shares, 0.2, atol=0.03)
    assert set(live[targets].dtypes) == {np.dtype("float32")}
    assert live[targets].isna().all().all()
    assert targets[:2] == ["target", "target_cyrusd_20"]


def test_feature_sets_are_ordered_subsets_of_all(data: SyntheticData) -> None:
    previous: list[str] = []
    for version in ("v5.0", "v5.1", "v5.2"):
        sets = data.feature_sets(version)
        every = sets["all"]
        assert len(set(every)) == len(every)
        assert all(re.fullmatch(r"feature(_[a-z0-9]+){2,}", f) for f in every)
        position = {f: i for i, f in enumerate(every)}
        for name, members in sets.items():
            assert members, name
            assert set(members) <= set(every), name
            assert [position[f] for f in members] == sorted(position[f] for f in members), name
        assert set(sets["small"]) <= set(sets["medium"])
        assert len(sets["small"]) < len(sets["medium"]) < len(every)
        # Numerai appends new features: an older version's list is a prefix of a newer one's
        assert every[: len(previous)] == previous
        assert len(every) > len(previous)
        previous = every
        body = json.loads(data.dataset_path(CLASSIC, 1, f"{version}/features.json").read_text())
        assert body["feature_sets"] == sets
    assert len(data.feature_sets("v5.2")) == 18
    assert len(data.feature_sets("v5.0")) == 17
    assert {len(data.feature_sets()[s]) for s in ("small", "medium", "all")} == {10, 25, 40}


def test_train_target_is_binned_and_predictable_on_validation(data: SyntheticData) -> None:
    from sklearn.linear_model import Ridge

    train = read(data, CLASSIC, "v5.2/train.parquet")
    validation = read(data, CLASSIC, "v5.2/validation.parquet")
    features = data.feature_sets("v5.2")["all"]
    assert len(train) == 2000
    assert train["era"].iloc[0] == "0001"
    assert validation["era"].min() > train["era"].max()
    assert train["target"].dtype == np.float32
    assert set(train["target"].unique()) == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert train["target"].equals(train["target_cyrusd_20"])
    model = Ridge(alpha=1.0).fit(train[features], train["target"])
    predictions = pd.Series(model.predict(validation[features]), index=validation.index)
    corr = predictions.corr(validation["target"], method="spearman")
    log.info("tiny Ridge validation corr: %.3f", corr)
    assert corr > 0.05
    # the small feature set alone still learns something (it holds some of the signal)
    small = data.feature_sets("v5.2")["small"]
    small_model = Ridge(alpha=1.0).fit(train[small], train["target"])
    assert (
        pd.Series(small_model.predict(validation[small])).corr(
            validation["target"].reset_index(drop=True), method="spearman"
        )
        > 0.02
    )


def test_benchmarks_and_example_predictions_cover_the_live_ids(data: SyntheticData) -> None:
    ids = data.live_ids(CLASSIC, ROUND)
    bench = read(data, CLASSIC, "v5.2/live_benchmark_models.parquet")
    assert bench.index.name == "id"
    assert bench.index.tolist() == ids
    assert "v52_lgbm_ender20" in bench.columns
    assert "v52_lgbm_cyrusd20" in bench.columns
    assert set(bench.dtypes) == {np.dtype("float32")}
    assert ((bench > 0) & (bench < 1)).all().all()
    example = read(data, CLASSIC, "v5.2/live_example_preds.parquet")
    assert list(example.columns) == ["prediction"]
    assert example.index.tolist() == ids
    csv = pd.read_csv(data.dataset_path(CLASSIC, ROUND, "v5.2/live_example_preds.csv"))
    assert list(csv.columns) == ["id", "prediction"]
    assert csv["id"].tolist() == ids
    universe = pd.Series(ids, name="id")
    validate_submission_numerai(universe, csv)  # Numerai's own check accepts it


def test_signals_universe_is_tickers_that_drift_slowly(data: SyntheticData) -> None:
    live = read(data, SIGNALS, "signals/v2.1/live.parquet")
    tickers = data.live_ids(SIGNALS, ROUND)
    assert live["numerai_ticker"].tolist() == tickers
    assert 350 <= len(tickers) <= 450
    assert all(re.fullmatch(r"[A-Z0-9]{2,4} [A-Z]{2}", t) for t in tickers)
    assert {"AAPL US", "ZURN CH"} <= set(tickers)
    assert (live["data_type"] == "live").all()
    features = [c for c in live.columns if c.startswith("feature_")]
    assert len(features) >= 10
    assert set(live[features].dtypes) == {np.dtype("int8")}
    later = data.live_ids(SIGNALS, ROUND + 1)
    assert len(set(tickers) ^ set(later)) <= len(tickers) * 0.02
    assert set(tickers) != set(data.live_ids(SIGNALS, ROUND + 20))
    example = read(data, SIGNALS, "signals/v2.1/live_example_preds.parquet")
    validate_submission_signals(live[["numerai_ticker"]], example.copy())
    assert read(data, SIGNALS, "signals/v2.1/train.parquet")["target"].notna().all()


def test_crypto_live_is_keyed_by_symbol_with_22_features(data: SyntheticData) -> None:
    live = read(data, CRYPTO, "crypto/v2.0/live.parquet")
    symbols = data.live_ids(CRYPTO, ROUND)
    assert live["symbol"].tolist() == symbols
    assert {"BTC", "ETH"} <= set(symbols)
    assert len(symbols) >= 100  # Numerai's minimum for a Crypto submission
    assert len([c for c in live.columns if c.startswith("feature_")]) == 22
    example = read(data, CRYPTO, "crypto/v2.0/live_example_preds.parquet")
    validate_submission_crypto(live[["symbol"]], example)
    targets = read(data, CRYPTO, "crypto/v2.0/train_targets.parquet")
    assert list(targets.columns) == ["symbol", "date", "target"]


def test_concurrent_requests_generate_each_file_once(tmp_path: Path) -> None:
    with SyntheticData("tiny", cache_dir=tmp_path) as d:
        names = ["v5.2/live.parquet", "v5.2/live_benchmark_models.parquet"]
        start = threading.Barrier(8)
        paths: list[Path] = []
        errors: list[BaseException] = []

        def fetch(i: int) -> None:
            try:
                start.wait(timeout=10)
                paths.append(d.dataset_path(CLASSIC, 9, names[i % 2]))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=fetch, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        assert len(paths) == 8
        assert {p.name for p in paths} == {"live.parquet", "live_benchmark_models.parquet"}
        # one build of the live group: live, benchmarks, example preds (parquet and csv)
        assert d.generated_files == 4
        assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temp file behind


def test_cache_on_disk_is_reused_by_a_new_instance(tmp_path: Path) -> None:
    with SyntheticData("tiny", cache_dir=tmp_path) as first:
        path = first.dataset_path(CLASSIC, 3, "v5.2/train.parquet")
    assert path.is_file()  # a cache dir the caller gave is kept
    with SyntheticData("tiny", cache_dir=tmp_path) as second:
        assert second.dataset_path(CLASSIC, 3, "v5.2/train.parquet") == path
        # train does not change with the round: another round reuses the file too
        assert second.dataset_path(CLASSIC, 4, "v5.2/train.parquet") == path
        assert second.generated_files == 0


def test_a_file_missing_from_a_half_written_group_is_rebuilt_identically(tmp_path: Path) -> None:
    with SyntheticData("tiny", cache_dir=tmp_path) as d:
        bench = d.dataset_path(CLASSIC, 6, "v5.2/live_benchmark_models.parquet")
        live = d.dataset_path(CLASSIC, 6, "v5.2/live.parquet")
        before, live_mtime = bench.read_bytes(), live.stat().st_mtime_ns
        bench.unlink()  # as if the process died between two files of the group
        assert d.dataset_path(CLASSIC, 6, "v5.2/live_benchmark_models.parquet") == bench
        assert bench.read_bytes() == before
        assert live.stat().st_mtime_ns == live_mtime  # files already there are not rewritten
        assert d.generated_files == 5


def test_unknown_names_raise_key_error(data: SyntheticData) -> None:
    for tournament, name, round_number in [
        (CLASSIC, "v9.9/live.parquet", 1),
        (CLASSIC, "signals/v2.1/live.parquet", 1),  # a Signals name asked of Classic
        (7, "v5.2/live.parquet", 1),
        (CLASSIC, "v5.2/live.parquet", 0),
    ]:
        with pytest.raises(KeyError) as caught:
            data.dataset_path(tournament, round_number, name)
        assert isinstance(caught.value, NotFoundError)
        assert "'" not in str(caught.value)[:1]  # readable, not KeyError's quoted repr
    with pytest.raises(KeyError):
        data.feature_sets("v4.3")
    with pytest.raises(KeyError):
        data.list_datasets(99)
    with pytest.raises(KeyError):
        data.live_ids(CLASSIC, 0)


def test_close_removes_the_private_temp_dir() -> None:
    d = SyntheticData("tiny")
    path = d.dataset_path(CLASSIC, 2, "v5.2/features.json")
    assert path.is_file()
    d.close()
    assert not path.exists()
    with pytest.raises(DataError):
        d.dataset_path(CLASSIC, 2, "v5.2/features.json")


@pytest.mark.slow
def test_full_size_live_round_has_v52_shape_and_builds_in_seconds(tmp_path: Path) -> None:
    with SyntheticData("full", seed=1, cache_dir=tmp_path) as d:
        started = time.perf_counter()
        path = d.dataset_path(CLASSIC, 900, "v5.2/live.parquet")
        d.dataset_path(CLASSIC, 900, "v5.2/features.json")
        seconds = time.perf_counter() - started
        sizes = {
            n: d.dataset_path(CLASSIC, 900, f"v5.2/{n}").stat().st_size
            for n in ("live.parquet", "live_benchmark_models.parquet", "features.json")
        }
        log.info("full-size live round: %.2f s, bytes %s", seconds, sizes)
        live = pd.read_parquet(path)
        sets = d.feature_sets("v5.2")
        assert [len(sets[s]) for s in ("small", "medium", "all")] == [42, 780, 2748]
        assert 6700 <= len(live) <= 6900
        assert list(live.columns[2:2750]) == sets["all"]
        assert 5_000_000 < sizes["live.parquet"] < 12_000_000
        assert seconds < 60  # generous: the figure is reported, not tuned here
        started = time.perf_counter()
        d.dataset_path(CLASSIC, 900, "v5.2/live.parquet")
        assert time.perf_counter() - started < 0.1  # cached


def test_v53_appends_quantum_features_and_changes_the_small_set(data: SyntheticData) -> None:
    """As Numerai's v5.3: v5.2's features and their values, plus new ones (the "quantum"
    set), and a "small" set that now holds some of them: a v5.2 "small" model sees a change."""
    old, new = data.feature_sets("v5.2"), data.feature_sets("v5.3")
    assert new["all"][: len(old["all"])] == old["all"]
    assert new["quantum"] == new["all"][len(old["all"]) :] and new["quantum"]
    assert set(new["small"]) != set(old["small"]) and len(new["small"]) == len(old["small"])
    assert set(new["small"]) & set(new["quantum"])
    live52 = read(data, CLASSIC, "v5.2/live.parquet")
    live53 = read(data, CLASSIC, "v5.3/live.parquet")
    pd.testing.assert_frame_equal(live53[live52.columns], live52)
    assert set(new["quantum"]) <= set(live53.columns)
    bench = read(data, CLASSIC, "v5.3/live_benchmark_models.parquet")
    assert all(c.startswith("v53_") for c in bench.columns)
