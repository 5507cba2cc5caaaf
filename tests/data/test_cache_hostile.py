"""The cache against hostile leftovers and answers (issue 16): a partial file resumes only with
a validator, a file unreadable despite its size is never kept, a file that fails to load can be
evicted, and a malformed download URL is one clear error."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.data import DataCache, load_frame
from numerai_autopilot.errors import ApiError, TransientError, UnreadableDataError
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.data import SyntheticData
from numerai_autopilot.tournaments import Tournament

CLASSIC = Tournament.CLASSIC
LIVE = "v5.2/live.parquet"


def current(api: NumeraiClient) -> int:
    rnd = api.current_round(CLASSIC)
    assert rnd is not None
    return rnd.number


def served(api: NumeraiClient) -> bytes:
    return httpx.get(api.dataset_url(LIVE, CLASSIC)).content


@pytest.mark.parametrize("etag", [None, "", 'W/"weak"'])
def test_a_stale_part_without_a_strong_validator_restarts_from_zero(
    sb: Sandbox, api: NumeraiClient, cache: DataCache, etag: str | None
) -> None:
    rnd = current(api)
    body = served(api)
    part = cache.path_for(CLASSIC, rnd, LIVE).with_name("live.parquet.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(b"x" * 1000)  # bytes of unknown origin: resumed, they would poison the file
    if etag is not None:
        part.with_name(part.name + ".etag").write_text(etag)
    sb.reset_counters()
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == body
    assert sb.counters()["ranged"] == 0  # no Range request without If-Range
    assert cache.downloads()[LIVE] == len(body)


def test_a_cached_file_matching_its_manifest_but_unreadable_is_downloaded_again(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    # A cache poisoned earlier: a truncated parquet whose manifest was taken of it.
    rnd = current(api)
    body = served(api)
    path = cache.path_for(CLASSIC, rnd, LIVE)
    path.parent.mkdir(parents=True)
    bad = body[: len(body) // 2]
    path.write_bytes(bad)
    manifest = {"sha256": hashlib.sha256(bad).hexdigest(), "size": len(bad)}
    path.with_name(path.name + ".sha256").write_text(json.dumps(manifest))
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == body
    assert len(load_frame(path, index="id")) > 0


class _ShortLive:
    """Sandbox data whose live.parquet is served cut in half, as if complete."""

    def __init__(self, inner: SyntheticData, tmp: Path) -> None:
        self.inner, self.tmp = inner, tmp

    def list_datasets(self, tournament: int) -> list[str]:
        return self.inner.list_datasets(tournament)

    def live_ids(self, tournament: int, round_number: int) -> list[str]:
        return self.inner.live_ids(tournament, round_number)

    def dataset_path(self, tournament: int, round_number: int, filename: str) -> Path:
        path = self.inner.dataset_path(tournament, round_number, filename)
        if filename != LIVE:
            return path
        short = self.tmp / f"short-{round_number}.parquet"
        short.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        return short


def test_a_download_whole_by_its_size_but_unreadable_is_never_kept(
    sandbox_data: Path, tmp_path: Path
) -> None:
    inner = SyntheticData("tiny", 0, sandbox_data)
    data = _ShortLive(inner, tmp_path)
    with (
        Sandbox(scale="tiny", seed=0, state_dir=tmp_path / "sb", data=data) as sb,
        NumeraiClient(sb.url, sb.public_id, sb.secret_key, timeout=2, retry_wait_initial=0) as api,
    ):
        cache = DataCache(tmp_path / "cache", api)
        with pytest.raises(TransientError, match="not a readable parquet file"):
            cache.fetch(CLASSIC, current(api), LIVE)
        assert sb.counters()["downloads"][LIVE] >= 2  # downloaded again, each time refused
        left = [p.name for p in (tmp_path / "cache").rglob("*") if p.is_file()]
        assert not [n for n in left if n.startswith("live.parquet") and not n.endswith(".lock")]
    inner.close()


def test_evict_makes_the_next_fetch_download_again(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    rnd = current(api)
    path = cache.fetch(CLASSIC, rnd, LIVE)
    cache.evict(path)
    assert not path.exists() and not path.with_name(path.name + ".sha256").exists()
    sb.reset_counters()
    assert cache.fetch(CLASSIC, rnd, LIVE) == path and path.exists()
    assert sb.counters()["graphql"].get("dataset") == 1  # not served from memory


def test_a_malformed_download_url_fails_at_once_with_one_clear_error(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    sb.inject("bad_url", count=10, match="dataset")
    sb.reset_counters()
    with pytest.raises(ApiError, match="malformed download URL"):
        cache.fetch(CLASSIC, current(api), LIVE)
    assert sb.counters()["graphql"].get("dataset") == 1  # permanent: not retried


def test_a_file_that_passes_its_checks_but_fails_to_load_is_evicted_and_fetched_again(
    sb: Sandbox, api: NumeraiClient, cache: DataCache
) -> None:
    # Poisoned earlier: data pages overwritten, footer intact, manifest taken of the bad bytes.
    rnd = current(api)
    body = served(api)
    path = cache.path_for(CLASSIC, rnd, LIVE)
    path.parent.mkdir(parents=True)
    bad = body[:1000] + b"\xff" * 64 + body[1064:]  # inside the first column's pages
    path.write_bytes(bad)
    manifest = {"sha256": hashlib.sha256(bad).hexdigest(), "size": len(bad)}
    path.with_name(path.name + ".sha256").write_text(json.dumps(manifest))
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == bad  # its footer reads
    with pytest.raises(UnreadableDataError):
        load_frame(path, index="id")
    cache.evict(path)  # what the run does on UnreadableDataError
    assert cache.fetch(CLASSIC, rnd, LIVE).read_bytes() == body
    assert len(load_frame(path, index="id")) > 0
