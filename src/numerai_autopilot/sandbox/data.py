"""Synthetic Numerai datasets, shaped like the real ones, generated lazily and cached on disk.

:class:`SyntheticData` is what the sandbox's file server serves. It lists dataset names exactly
as Numerai's ``listDatasets`` does (``v5.2/live.parquet``, ``signals/v2.1/live.parquet``,
``crypto/v2.0/live.parquet``, ...) and writes a file the first time it is asked for, together
with the files built from the same rows (live.parquet brings its benchmark models and example
predictions along). Everything is seeded: the same seed, scale and round give the same bytes.
Live files change every round (new Classic ids, a drifting Signals/Crypto universe); train,
validation and features.json do not, so they are cached once for all rounds.

Two scales: ``tiny`` (a few hundred rows, a few dozen features: unit tests) and ``full``
(about 6,800 live rows x 2,748 int8 features like v5.2: benchmarks; train and validation stay
far smaller than Numerai's).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from ..errors import ConfigError, DataError, NotFoundError
from ..fileio import write_atomic
from ..tournaments import Tournament
from . import _data_classic as classic
from . import _data_markets as markets
from ._data_names import CLASSIC_VERSIONS, CRYPTO_VERSIONS, SIGNALS_VERSIONS
from ._data_names import feature_sets as _feature_sets

__all__ = ["SyntheticData", "UnknownDatasetError"]

log = logging.getLogger(__name__)

_FORMAT = "synthetic-1"  # bump when generation changes, so old caches are not reused


class UnknownDatasetError(NotFoundError, KeyError):
    """The tournament, dataset name, version or round does not exist in the synthetic data.

    A KeyError too, so lookups read naturally; the message is kept verbatim.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class _Group:
    """Files built together from the same rows; ``build`` maps round -> bare name -> bytes."""

    key: str
    prefix: str
    files: tuple[str, ...]
    per_round: bool
    build: Callable[[int], dict[str, bytes]]


def _static(build: Callable[[], dict[str, bytes]]) -> Callable[[int], dict[str, bytes]]:
    """A builder for files that are the same in every round."""

    def run(_round: int) -> dict[str, bytes]:
        return build()

    return run


def _catalog(
    cd: classic.ClassicData, md: markets.MarketsData
) -> dict[Tournament, dict[str, _Group]]:
    """Every dataset name per tournament, mapped to the group that builds it."""
    groups: dict[Tournament, list[_Group]] = {t: [] for t in Tournament}
    for v in CLASSIC_VERSIONS:
        p = f"{v}/"
        groups[Tournament.CLASSIC] += [
            _Group(
                p + "features",
                p,
                classic.FEATURE_FILES,
                False,
                _static(partial(cd.features_json, v)),
            ),
            _Group(p + "live", p, classic.LIVE_FILES, True, partial(cd.live, v)),
            _Group(p + "train", p, classic.TRAIN_FILES, False, _static(partial(cd.train, v))),
            _Group(
                p + "validation",
                p,
                classic.VALIDATION_FILES,
                False,
                _static(partial(cd.validation, v)),
            ),
        ]
    for v in SIGNALS_VERSIONS:
        p = f"signals/{v}/"
        groups[Tournament.SIGNALS] += [
            _Group(p + "live", p, markets.SIGNALS_LIVE_FILES, True, partial(md.signals_live, v)),
            _Group(
                p + "train",
                p,
                markets.SIGNALS_TRAIN_FILES,
                False,
                _static(partial(md.signals_train, v)),
            ),
            _Group(
                p + "validation",
                p,
                markets.SIGNALS_VALIDATION_FILES,
                False,
                _static(partial(md.signals_validation, v)),
            ),
        ]
    for v in CRYPTO_VERSIONS:
        p = f"crypto/{v}/"
        groups[Tournament.CRYPTO] += [
            _Group(p + "live", p, markets.CRYPTO_LIVE_FILES, True, md.crypto_live),
            _Group(p + "train", p, markets.CRYPTO_TRAIN_FILES, False, _static(md.crypto_train)),
        ]
    return {t: {g.prefix + f: g for g in gs for f in g.files} for t, gs in groups.items()}


class SyntheticData:
    """Seeded synthetic datasets for the three tournaments, generated on first use.

    Thread-safe: concurrent requests for files of the same group generate them once. Files are
    written atomically (temp file + ``os.replace``), so another process sharing ``cache_dir``
    never reads a partial file. ``cache_dir=None`` uses a private temp dir that :meth:`close`
    removes.
    """

    def __init__(
        self, scale: Literal["tiny", "full"] = "tiny", seed: int = 0, cache_dir: Path | None = None
    ) -> None:
        if scale not in ("tiny", "full"):
            raise ConfigError(f"synthetic data scale must be 'tiny' or 'full', not {scale!r}")
        if seed < 0:
            raise ConfigError(f"synthetic data seed must be >= 0, not {seed}")
        self.scale = scale
        self.seed = seed
        self._own_dir = cache_dir is None
        base = (
            Path(tempfile.mkdtemp(prefix="numerai-sandbox-data-"))
            if cache_dir is None
            else cache_dir
        )
        self._base = base
        self._root = base / _FORMAT / scale / f"seed-{seed}"
        self._classic = classic.ClassicData(scale, seed)
        self._markets = markets.MarketsData(scale, seed)
        self._catalog = _catalog(self._classic, self._markets)
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, int], threading.Lock] = {}
        self._closed = False
        self.generated_files = 0
        """How many files this instance has written (cache hits do not count)."""

    def __enter__(self) -> SyntheticData:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def list_datasets(self, tournament: int) -> list[str]:
        """All dataset names of a tournament, sorted, as Numerai's ``listDatasets`` gives them."""
        return sorted(self._names(tournament))

    def dataset_path(self, tournament: int, round_number: int, filename: str) -> Path:
        """The local path of a dataset file for a round, generating it on first request.

        Raises :class:`UnknownDatasetError` (a KeyError) for an unknown tournament, name or a
        round number below 1.
        """
        if self._closed:
            raise DataError("this SyntheticData was closed: create a new one")
        group = self._names(tournament).get(filename)
        if group is None:
            raise UnknownDatasetError(
                f"no dataset {filename!r} in tournament {tournament}: "
                "use a name that list_datasets returns"
            )
        if round_number < 1:
            raise UnknownDatasetError(f"round {round_number} does not exist: rounds start at 1")
        folder = self._root / (f"round-{round_number}" if group.per_round else "static")
        path = folder / filename
        if path.is_file():
            return path
        with self._lock_for(group.key, round_number if group.per_round else 0):
            if not path.is_file():  # another thread may have built it while we waited
                self._generate(group, round_number, folder)
        return path

    def live_ids(self, tournament: int, round_number: int) -> list[str]:
        """The ids a submission must cover this round: Classic ``id``s, Signals tickers or
        Crypto symbols, in the order of the round's live.parquet."""
        t = self._tournament(tournament)
        if round_number < 1:
            raise UnknownDatasetError(f"round {round_number} does not exist: rounds start at 1")
        if t is Tournament.CLASSIC:
            return self._classic.live_ids(round_number)
        if t is Tournament.SIGNALS:
            return self._markets.signals_universe(round_number)
        return self._markets.crypto_universe(round_number)

    def feature_sets(self, version: str = "v5.2") -> dict[str, list[str]]:
        """features.json's ``feature_sets`` of a Classic version at this scale."""
        if version not in CLASSIC_VERSIONS:
            raise UnknownDatasetError(
                f"no Classic data version {version!r}: use one of {', '.join(CLASSIC_VERSIONS)}"
            )
        return _feature_sets(version, self.scale)

    def close(self) -> None:
        """Forget the instance; remove the cache dir if it was a private temp dir."""
        with self._guard:
            self._closed = True
        if self._own_dir:
            shutil.rmtree(self._base, ignore_errors=True)

    # internals -------------------------------------------------------------------------------
    def _tournament(self, tournament: int) -> Tournament:
        try:
            return Tournament(tournament)
        except ValueError as exc:
            raise UnknownDatasetError(
                f"unknown tournament {tournament}: use 8 (Classic), 11 (Signals) or 12 (Crypto)"
            ) from exc

    def _names(self, tournament: int) -> dict[str, _Group]:
        return self._catalog[self._tournament(tournament)]

    def _lock_for(self, key: str, round_number: int) -> threading.Lock:
        with self._guard:
            if self._closed:
                raise DataError("this SyntheticData was closed: create a new one")
            return self._locks.setdefault((key, round_number), threading.Lock())

    def _generate(self, group: _Group, round_number: int, folder: Path) -> None:
        started = time.perf_counter()
        files = group.build(round_number)
        written = 0
        for bare, data in files.items():
            target = folder / (group.prefix + bare)
            if not target.is_file():  # a run killed mid-group left some; they are identical
                write_atomic(target, data)
                written += 1
        with self._guard:
            self.generated_files += written
        log.info(
            "generated %s%s for round %d (%s scale): %d bytes in %.2f s",
            group.prefix,
            "{" + ",".join(files) + "}",
            round_number,
            self.scale,
            sum(len(d) for d in files.values()),
            time.perf_counter() - started,
        )
