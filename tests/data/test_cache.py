"""The round-scoped cache against the sandbox: whole, resumed, restarted, verified, once."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.data import DataCache, load_frame
from numerai_autopilot.errors import ConfigError, DataError, NotFoundError
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

CLASSIC = Tournament.CLASSIC
LIVE = "v5.2/live.parquet"


def current(api: NumeraiClient, tournament: Tournament = CLASSIC) -> int:
    rnd = api.current_round(tournament)
    assert rnd is not None
    return rnd.number


def served(api: NumeraiClient, dataset: str = LIVE, tournament: Tournament = CLASSIC) -> bytes:
    """The file as the sandbox serves it, fetched independently of the cache."""
    return httpx.get(api.dataset_url(dataset, tournament)).content


def downloads(sb: Sandbox, dataset: str = LIVE) -> int:
    """The downloads of ``dataset`` the sandbox was asked for, each served whole.

    Requests are counted when they arrive, so their count is final once the client has its
    file. A complete download is counted after the body is sent, possibly after the client
    has it: wait (bounded) for that count to catch up with the requests."""
    asked: int = sum(
        int(n)
        for what, n in sb.counters()["http"].items()
        if what.startswith("GET ") and what.endswith(f"/{dataset}")
    )
    deadline = time.monotonic() + 5.0
    while sb.counters()["downloads"].get(dataset, 0) < asked and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sb.counters()["downloads"].get(dataset, 0) == asked, sb.counters()
    return asked


def test_fetch_downloads_the_whole_file_and_records_its_checksum(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    path = cache.fetch(CLASSIC, rnd, LIVE)
    body = served(api)
    assert path == cache.root / f"classic-round-{rnd}" / LIVE
    assert path.read_bytes() == body
    manifest = json.loads(path.with_name(path.name + ".sha256").read_text())
    assert manifest["sha256"] == hashlib.sha256(body).hexdigest()
    assert manifest["size"] == len(body)
    assert cache.downloads() == {LIVE: len(body)}
    assert not list(path.parent.glob("*.part"))


def test_repeated_fetches_download_once_even_from_many_threads_and_instances(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    sb.reset_counters()
    other = DataCache(cache.root, api)  # another "process" sharing the directory
    paths: list[Path] = []
    threads = [
        threading.Thread(target=lambda c=c: paths.append(c.fetch(CLASSIC, rnd, LIVE)))
        for c in [cache, other] * 4
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(paths) == 8 and len(set(paths)) == 1
    assert downloads(sb) == 1
    assert sb.counters()["graphql"].get("dataset") == 1
    cache.fetch(CLASSIC, rnd, LIVE)
    assert downloads(sb) == 1


def test_truncated_download_is_resumed_with_a_range_request(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    body = served(api)
    sb.reset_counters()
    sb.inject("truncate", bytes=1000)
    path = cache.fetch(CLASSIC, rnd, LIVE)
    assert path.read_bytes() == body
    assert cache.downloads()[LIVE] == len(body)  # 1000 bytes, then the rest: nothing twice
    assert sb.counters()["ranged"] == 1


def test_server_ignoring_the_range_restarts_instead_of_appending(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    body = served(api)
    sb.inject("truncate", bytes=1000)
    # The first (truncated) request consumes one use; the resume gets a 200 with all of it.
    sb.inject("ignore_range", count=2)
    path = cache.fetch(CLASSIC, rnd, LIVE)
    assert path.read_bytes() == body
    assert cache.downloads()[LIVE] == 1000 + len(body)


def test_part_of_another_file_version_is_not_resumed(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    body = served(api)
    part = cache.path_for(CLASSIC, rnd, LIVE).with_name("live.parquet.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 1000)
    part.with_name("live.parquet.part.etag").write_text('"an-older-version"')
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == body


def test_a_new_round_downloads_its_own_file(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    first_round = current(api)
    first = cache.fetch(CLASSIC, first_round, LIVE)
    first_ids = load_frame(first, columns=[], index="id").index
    sb.open_round(int(CLASSIC))
    second_round = current(api)
    assert second_round == first_round + 1
    second = cache.fetch(CLASSIC, second_round, LIVE)
    assert second != first
    assert downloads(sb) == 2
    second_ids = load_frame(second, columns=[], index="id").index
    assert set(second_ids) == set(sb.live_ids(int(CLASSIC)))
    assert not set(first_ids) & set(second_ids)


def test_old_rounds_are_pruned_keeping_the_last_two(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rounds = []
    for _ in range(3):
        rounds.append(current(api))
        cache.fetch(CLASSIC, rounds[-1], LIVE)
        sb.open_round(int(CLASSIC))
    assert sorted(p.name for p in cache.root.iterdir()) == [
        f"classic-round-{rounds[1]}",
        f"classic-round-{rounds[2]}",
    ]


@pytest.mark.parametrize("damage", ["flip", "shorten", "manifest"])
def test_cached_file_that_fails_its_checksum_is_downloaded_again(
    sb: Sandbox, api: NumeraiClient, cache: DataCache, damage: str
) -> None:
    rnd = current(api)
    path = cache.fetch(CLASSIC, rnd, LIVE)
    good = path.read_bytes()
    if damage == "flip":
        path.write_bytes(good[:500] + bytes([good[500] ^ 0xFF]) + good[501:])
    elif damage == "shorten":
        path.write_bytes(good[:-10])
    else:
        path.with_name(path.name + ".sha256").unlink()
    for fresh in (cache, DataCache(cache.root, api)):
        assert fresh.fetch(CLASSIC, rnd, LIVE).read_bytes() == good
    assert downloads(sb) == 2


@pytest.mark.parametrize(
    ("fault", "url_requests"),
    [
        (("status", {"code": 503}), 1),
        (("drop", {}), 1),
        (("hang", {"seconds": 5}), 1),  # the client's 2 s read timeout ends it
        (("status", {"code": 403}), 2),  # an expired URL: a fresh one is asked for
    ],
)
def test_transient_download_failures_are_retried(
    sb: Sandbox,
    api: NumeraiClient,
    cache: DataCache,
    fault: tuple[str, dict[str, Any]],
    url_requests: int,
) -> None:
    rnd = current(api)
    body = served(api)
    sb.reset_counters()
    sb.inject(fault[0], match="GET /files", **fault[1])
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == body
    assert sb.counters()["graphql"]["dataset"] == url_requests
    assert cache.downloads() == {LIVE: len(body)}  # no byte fetched twice


def test_unknown_or_unsafe_dataset_names_are_refused(api: NumeraiClient, cache: DataCache) -> None:
    rnd = current(api)
    with pytest.raises(NotFoundError):
        cache.fetch(CLASSIC, rnd, "v9.9/live.parquet")
    with pytest.raises(ConfigError):
        cache.fetch(CLASSIC, rnd, "../../etc/passwd")


def test_projection_reads_only_the_requested_features_as_int8(
    api: NumeraiClient, cache: DataCache
) -> None:
    path = cache.fetch(CLASSIC, current(api), LIVE)
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    features = [n for n in names if n.startswith("feature_")][:3]
    frame = load_frame(path, columns=features[::-1], index="id")
    assert list(frame.columns) == features[::-1]
    assert frame.index.name == "id"
    assert all(dtype == np.int8 for dtype in frame.dtypes)


def test_unwritable_cache_is_a_data_error_naming_the_setting(
    tmp_path: Path, api: NumeraiClient
) -> None:
    root = tmp_path / "not-a-dir"
    root.write_text("a file where the cache directory should be")  # fails even for root
    with pytest.raises(DataError, match="NUMERAI_DATA_DIR"):
        DataCache(root, api).fetch(CLASSIC, current(api), LIVE)
