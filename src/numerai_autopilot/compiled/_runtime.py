"""Loading a verified forest and predicting with it (inside a prediction worker).

The entry's arrays are read once, their sha256 checked against the entry's metadata, and
parsed without pickle. Before first use in this process the forest predicts the entry's stored
sample and must agree with the LightGBM predictions stored beside it; an entry that does not is
rejected (marked, so no run uses it again until ``models prepare`` rebuilds it).
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._forest import Forest
from ._kernel import predict_raw
from ._store import EXPECTED, OBJECT, SAMPLE, CompiledStore, Engine, entry_name, untrusted
from ._verify import disagreement

log = logging.getLogger(__name__)


class CompiledForest:
    """A prepared LightGBM model: rows in the model's feature order -> predictions."""

    def __init__(self, forest: Forest, name: str, jit: Path, *, build: bool = False) -> None:
        self.forest = forest
        self.features = list(forest.features)
        self.n_features = forest.n_features
        self.name = name
        self._jit = jit
        self._build = build

    def predict(self, x: np.ndarray[Any, Any], threads: int = 1) -> np.ndarray[Any, Any]:
        """Integer rows are walked as they are (Numerai's int8 features: 4x less to read than
        float32); others as floats, as LightGBM reads them."""
        return predict_raw(self.forest, x, threads=threads, jit=self._jit, build=self._build)


# The folder a run resolved, for its fork server and workers: they see no NUMERAI_* variable.
WORKERS_JIT = "_AUTOPILOT_JIT_DIR"


def jit_dir(store: CompiledStore) -> Path | None:
    """Where the walks' machine code is kept: ``NUMERAI_JIT_DIR`` when you set it (one folder
    for several state folders), else the cache's ``jit`` folder; None when another user may
    write it (then no forest is used: LightGBM predicts)."""
    store.ensure()
    chosen = os.environ.get("NUMERAI_JIT_DIR") or os.environ.get(WORKERS_JIT)
    jit = Path(chosen) if chosen else store.jit
    jit.mkdir(mode=0o700, parents=True, exist_ok=True)
    why = untrusted(jit) if chosen else untrusted(store.root) or untrusted(jit)
    if why is not None:
        log.warning("not using prepared forests: %s", why)
        return None
    return jit


def open_verified(
    store: CompiledStore, artifact_sha256: str
) -> tuple[CompiledForest | None, str | None]:
    """The artifact's forest if a verified entry for these engine versions exists and agrees
    with LightGBM on its stored sample now: (forest, None). Else (None, why): why is None when
    there is simply no entry (prepare it with ``models prepare``)."""
    engine = Engine.installed()
    if engine is None or not store.ready(artifact_sha256):
        return None, None  # decided without importing llvmlite
    name = entry_name(artifact_sha256, engine)
    if not store.entry(name).exists():
        return None, None
    problem = store.problem(name, hash_object=False)
    if problem is not None:
        return None, f"compiled entry {name} not used: {problem}"
    d = store.entry(name)
    meta = store.meta(name) or {}
    data = _mapped_if_unchanged(d / OBJECT, meta.get("object_sha256"))
    if data is None:
        return None, f"compiled entry {name} not used: the forest changed since it was verified"
    jit = jit_dir(store)
    if jit is None:
        return None, f"compiled entry {name} not used: its walks' folder is not trusted"
    try:
        forest = CompiledForest(Forest.from_bytes(data), name, jit)
    except (OSError, ValueError, KeyError) as exc:
        store.reject(name, f"unreadable forest: {exc}")
        return None, f"compiled entry {name} rejected: unreadable forest ({exc})"
    why = _check_sample(d, forest)
    if why is not None:
        store.reject(name, why)
        return None, f"compiled entry {name} rejected on its stored sample: {why}"
    return forest, None


def _mapped_if_unchanged(path: Path, sha256: object) -> mmap.mmap | None:
    """The forest file mapped read-only, if its bytes still hash to the verified sha256. Read
    to hash (the page cache, not this process's memory), then mapped from the same open file:
    a process holds only the pages its walk reads (a complete-tree walk reads about a fifth
    of them), shared with every process that maps it (the resident server and its workers)."""
    with path.open("rb") as f:
        if hashlib.file_digest(f, "sha256").hexdigest() != sha256:
            return None
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


# A worker re-checks this many of the stored rows (spread over them): ``models prepare``
# verified the entry on all of them (512) when it built it, and the forest's bytes are checked
# against that verification's sha256 above; this is the check that the walks loaded in this
# process agree too. All 512 rows, as floats and as integers, were 35 ms of every worker.
WORKER_ROWS = 64


def _check_sample(d: Path, forest: CompiledForest) -> str | None:
    try:  # mapped: only the rows checked are read (the sample is 512 x the features)
        sample = np.load(d / SAMPLE, mmap_mode="r", allow_pickle=False)
        expected = np.load(d / EXPECTED, allow_pickle=False)
        if len(sample) != len(expected):
            return f"the sample has {len(sample)} rows and {len(expected)} expected predictions"
        step = max(1, len(sample) // WORKER_ROWS)
        sample = np.array(sample[::step][:WORKER_ROWS])
        expected = expected[::step][:WORKER_ROWS]
    except (OSError, ValueError) as exc:
        return f"unreadable sample: {exc}"
    try:
        why = disagreement(expected, forest.predict(sample))
        if why is None:
            why = _check_as_integers(forest, sample, expected)
    except ValueError as exc:
        return str(exc)
    return why


def _check_as_integers(
    forest: CompiledForest, sample: np.ndarray[Any, Any], expected: np.ndarray[Any, Any]
) -> str | None:
    """The run feeds whole-number features as they come (Numerai's int8): the sample's rows
    without missing values, as int8, must agree too."""
    whole = np.isfinite(sample).all(axis=1)
    rows = sample[whole]
    if not len(rows) or (rows != np.round(rows)).any() or np.abs(rows).max() > 127:
        return None
    why = disagreement(expected[whole], forest.predict(rows.astype(np.int8)))
    return None if why is None else f"as integers: {why}"
