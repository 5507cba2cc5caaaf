"""The round-scoped data cache: each (tournament, round, dataset) downloaded at most once.

Layout: ``<root>/<tournament>-round-<n>/<dataset>`` (e.g. ``classic-round-1234/v5.2/live.parquet``)
with ``<file>.sha256`` next to it. A new round has a new directory, so last round's live file is
never reused (numerapi reuses any same-size file). Only a file whose size and sha256 match its
manifest, and whose parquet footer or JSON reads, is ever handed out; anything else is downloaded
again. A partial download is resumed only with a strong ETag (If-Range); without one it restarts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import filelock
import pyarrow as pa
import pyarrow.parquet as pq

from .. import progress
from ..client import NumeraiClient, RetryPolicy
from ..errors import ConfigError, DataError, TransientError
from ..fileio import sha256_file, write_atomic
from ..tournaments import Tournament
from ._download import UrlExpiredError, download_once

log = logging.getLogger(__name__)
_DATASET_NAME = re.compile(r"^[\w.+-]+(/[\w.+-]+)*$")
_KEEP_ROUNDS = 2


class DataCache:
    """Downloads Numerai datasets into ``root``, atomically, resumably, verified by sha256."""

    def __init__(
        self,
        root: Path,
        client: NumeraiClient,
        *,
        retry: RetryPolicy | None = None,
        lock_timeout: float = 3600.0,
    ) -> None:
        """``retry`` bounds the download retries (default: the client's policy with at least 6
        attempts and an hour, since a big file may legitimately take long); ``lock_timeout`` bounds
        the wait for another process downloading the same file."""
        self._root = root
        self._client = client
        base = client.retry_policy
        self._retry = retry or dataclasses.replace(
            base, attempts=max(6, base.attempts), deadline=max(3600.0, base.deadline)
        )
        self._lock_timeout = lock_timeout
        self._guard = threading.Lock()
        self._key_locks: dict[tuple[int, int, str], threading.Lock] = {}
        # key -> (path, size, mtime_ns) of a file verified or downloaded by this process
        self._verified: dict[tuple[int, int, str], tuple[Path, int, int]] = {}
        self._bytes: dict[str, int] = {}

    @property
    def root(self) -> Path:
        return self._root

    def scope_dir(self, tournament: Tournament, round_number: int) -> Path:
        """The directory holding one round's files."""
        return self._root / f"{tournament.label}-round-{round_number}"

    def path_for(self, tournament: Tournament, round_number: int, dataset: str) -> Path:
        """Where ``dataset`` of that round lives (whether or not it is there yet)."""
        if not _DATASET_NAME.match(dataset) or ".." in dataset.split("/"):
            raise ConfigError(f"dataset name {dataset!r} is not a Numerai dataset path")
        return self.scope_dir(tournament, round_number) / dataset

    def downloads(self) -> dict[str, int]:
        """Bytes actually transferred by this process, per dataset name."""
        with self._guard:
            return dict(self._bytes)

    def fetch(self, tournament: Tournament, round_number: int, dataset: str) -> Path:
        """The verified local copy of ``dataset`` for that round, downloading it if needed.

        At most one download per (tournament, round, dataset) in this process (threads wait for
        each other) and, through a file lock, across processes sharing ``root``."""
        key = (int(tournament), round_number, dataset)
        path = self.path_for(tournament, round_number, dataset)
        with self._guard:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            known = self._verified.get(key)
            if known is not None and _same_stat(path, known):
                return path
            lock = filelock.FileLock(str(path) + ".lock", timeout=self._lock_timeout)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                with lock:
                    self._fetch_locked(tournament, round_number, dataset, path)
            except filelock.Timeout as exc:
                raise DataError(
                    f"{path}: another process has been downloading it for more than "
                    f"{self._lock_timeout:g}s; remove {path}.lock if no run is active"
                ) from exc
            except OSError as exc:
                raise DataError(
                    f"{path}: cannot write the cache ({exc.strerror}); check free space and "
                    "permissions of NUMERAI_DATA_DIR / NUMERAI_STATE_DIR"
                ) from exc
            st = path.stat()
            self._verified[key] = (path, st.st_size, st.st_mtime_ns)
        self._prune(tournament, round_number)
        return path

    def _fetch_locked(
        self, tournament: Tournament, round_number: int, dataset: str, path: Path
    ) -> None:
        manifest = _manifest_path(path)
        if path.exists():
            problem = _check_against_manifest(path, manifest) or unreadable(path)
            if problem is None:
                log.debug("%s: cached copy verified", path)
                return
            log.warning("%s: cached copy not used (%s); downloading again", path, problem)
            path.unlink()
            manifest.unlink(missing_ok=True)
        part = path.with_name(path.name + ".part")
        url: str | None = None
        watcher = progress.current()

        def attempt() -> None:
            nonlocal url
            if url is None:
                url = self._client.dataset_url(dataset, tournament, round_number)
            try:
                download_once(
                    self._client.http,
                    url,
                    part,
                    lambda n: self._count(dataset, n),
                    lambda done, total: watcher.download_started(dataset, done, total),
                )
            except UrlExpiredError:
                url = None
                raise
            finally:
                watcher.download_finished(dataset)
            # Whole by its size yet unreadable (a server that announced a short total, bytes
            # stitched from two versions): never checksummed as good; download it again.
            problem = unreadable(part)
            if problem is not None:
                part.unlink()
                part.with_name(part.name + ".etag").unlink(missing_ok=True)
                raise TransientError(f"download of {dataset}: {problem}; downloading again")

        self._retry.call(f"download of {dataset}", attempt)
        digest, size = _sha256(part)
        # Manifest first: if we die before the rename, the manifest does not match whatever
        # file (if any) is at ``path``, so nothing unverified is ever used.
        _write_json(
            manifest,
            {
                "sha256": digest,
                "size": size,
                "dataset": dataset,
                "round": round_number,
                "tournament": int(tournament),
            },
        )
        os.replace(part, path)
        part.with_name(part.name + ".etag").unlink(missing_ok=True)
        log.info("%s: downloaded %d bytes (sha256 %s)", path, size, digest[:12])

    def evict(self, path: Path) -> None:
        """Forget a file :meth:`fetch` handed out, with its manifest and any partial download,
        so the next fetch downloads it again. For a file that passed its checksum but failed
        to load (the checksum only proves it is what was downloaded)."""
        lock = filelock.FileLock(str(path) + ".lock", timeout=self._lock_timeout)
        try:
            with lock:
                for p in (path, _manifest_path(path), path.with_name(path.name + ".part")):
                    p.unlink(missing_ok=True)
                path.with_name(path.name + ".part.etag").unlink(missing_ok=True)
        except (filelock.Timeout, OSError) as exc:
            log.warning("%s: could not evict from the cache (%s)", path, exc)
        with self._guard:
            for key, known in list(self._verified.items()):
                if known[0] == path:
                    del self._verified[key]
        log.warning("%s: evicted from the cache; the next fetch downloads it again", path)

    def _count(self, dataset: str, n: int) -> None:
        with self._guard:
            self._bytes[dataset] = self._bytes.get(dataset, 0) + n
        progress.current().download_advanced(dataset, n)

    def _prune(self, tournament: Tournament, current: int) -> None:
        """Delete this tournament's round directories older than the newest two (never the one
        just used)."""
        pattern = re.compile(rf"^{tournament.label}-round-(\d+)$")
        rounds = sorted(
            (int(m.group(1)), p)
            for p in (self._root.iterdir() if self._root.is_dir() else [])
            if (m := pattern.match(p.name)) and p.is_dir()
        )
        keep = {n for n, _ in rounds[-_KEEP_ROUNDS:]} | {current}
        for n, p in rounds:
            if n not in keep:
                log.info("pruning cached round %s", p)
                shutil.rmtree(p, ignore_errors=True)


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _same_stat(path: Path, known: tuple[Path, int, int]) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    return (st.st_size, st.st_mtime_ns) == known[1:]


def _sha256(path: Path) -> tuple[str, int]:
    return sha256_file(path), path.stat().st_size


def _check_against_manifest(path: Path, manifest: Path) -> str | None:
    """None when ``path`` matches its manifest, else what is wrong."""
    try:
        doc: Any = json.loads(manifest.read_text(encoding="utf-8"))
        want_sha, want_size = str(doc["sha256"]), int(doc["size"])
    except FileNotFoundError:
        return "no checksum manifest"
    except (OSError, ValueError, KeyError, TypeError):
        return "unreadable checksum manifest"
    if path.stat().st_size != want_size:
        return f"size {path.stat().st_size} != {want_size}"
    digest, _ = _sha256(path)
    if digest != want_sha:
        return "sha256 mismatch"
    return None


def unreadable(path: Path) -> str | None:
    """What makes a parquet or JSON file unreadable (its footer, its syntax), else None; other
    files are not looked into. Cheap: a parquet footer, not its data."""
    try:
        if path.name.endswith((".parquet", ".parquet.part")):
            pq.ParquetFile(path).close()
        elif path.name.endswith((".json", ".json.part")):
            json.loads(path.read_bytes())
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"not a readable {path.name.removesuffix('.part').rsplit('.', 1)[-1]} file ({exc})"
    return None


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(doc, sort_keys=True))
