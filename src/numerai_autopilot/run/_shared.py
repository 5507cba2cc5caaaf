"""The live frame, shared with prediction workers through a read-only memory-mapped file.

Workers start from a clean fork server (no OpenMP pools, threads or secrets of the run), so
they cannot inherit the frame by fork. Instead the run writes the frame's numeric columns once,
as raw ``.npy`` blocks in a private folder (in ``/dev/shm`` when it exists, else in the run's
data dir or a private temp folder: macOS, Windows, the portable mode), and each worker maps
them read-only: no copy, no pickle per model, the pages shared by every worker. The index and
the few other columns (era, data_type) are one small pickle in the same folder, read by each
worker: they used to travel with every job, 157 kB for Classic's 6,893 ids, more than a pipe
holds, so starting each worker waited for the fork server to fork and the child to read.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import pickle
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _platform

_PREFIX = "numerai-autopilot-frames-"
_REST = "index-and-rest.pkl"
_SLACK = 1 << 20  # .npy headers and the file system's own blocks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Block:
    file: str
    columns: list[str]


@dataclass(frozen=True)
class SharedFrame:
    """A picklable handle to a frame published with :func:`publish`."""

    folder: str
    index: pd.Index | None
    """The frame's index, in the process that published it (None in a worker: see open)."""
    columns: list[str]
    """All columns, in the frame's order."""
    blocks: list[_Block]
    rest: pd.DataFrame | None
    """The columns that are not numeric (small), with the frame's index (as ``index``)."""

    def __getstate__(self) -> dict[str, object]:
        # The index and the other columns stay out of the job: a worker reads them from the
        # folder (_REST), written once by publish.
        return self.__dict__ | {"index": None, "rest": None}

    def ids(self) -> pd.Index:
        """The frame's index (read from the folder where the handle came without it)."""
        return self._index_and_rest()[0]

    def _index_and_rest(self) -> tuple[pd.Index, pd.DataFrame]:
        if self.index is not None and self.rest is not None:
            return self.index, self.rest
        with (Path(self.folder) / _REST).open("rb") as f:
            index, rest = pickle.load(f)  # written by the run itself: see publish
        return index, rest

    def open(self, *, writable: bool = False) -> pd.DataFrame:
        """The frame. By default its numeric columns are read-only views of the mapped file
        (no copy; columns grouped by dtype, so select them by name). ``writable``: a private
        copy in the original column order, as Numerai hands it to Model Upload functions."""
        index, rest = self._index_and_rest()
        parts: list[pd.DataFrame] = []
        for b in self.blocks:
            arr = np.load(Path(self.folder) / b.file, mmap_mode="r")  # (columns, rows)
            parts.append(pd.DataFrame(arr.T, index=index, columns=b.columns, copy=False))
        if len(rest.columns):
            parts.append(rest)
        if not parts:  # only ready prediction files are due: no column was loaded
            return pd.DataFrame(index=index)
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
        return frame[self.columns].copy() if writable else frame


def publish(frame: pd.DataFrame, base: Path | None = None) -> SharedFrame:
    """Write ``frame`` for workers to map; remove it with :func:`unpublish`. A ``/dev/shm``
    too small for it (Docker gives 64 MiB, ``--shm-size`` less) is not an error: the frame
    goes to the temporary folder on disk instead, with one warning naming the setting."""
    root = base or _platform.HOST.shm
    if root is not None and base is None:
        if not os.access(root, os.W_OK | os.X_OK):  # podman's emptyDir at /dev/shm: root's
            return _on_disk(frame, root, "not writable by this user")
        need = int(frame.memory_usage(index=False, deep=False).sum()) + _SLACK
        with contextlib.suppress(OSError):
            if shutil.disk_usage(root).free < need:
                return _on_disk(frame, root, f"{need // 2**20 + 1} MiB needed")
        try:
            return _publish(frame, root)
        except OSError as exc:  # filled up meanwhile (another run, another process)
            if exc.errno != errno.ENOSPC:
                raise
            return _on_disk(frame, root, "it filled up")
    return _publish(frame, root)


def _on_disk(frame: pd.DataFrame, shm: Path, why: str) -> SharedFrame:
    log.warning(
        "%s cannot hold the live frame (%s): sharing it from the temporary "
        "folder on disk instead; give the container more (docker run --shm-size=1g, or a "
        "Memory emptyDir at /dev/shm)",
        shm,
        why,
    )
    return _publish(frame, None)


def _publish(frame: pd.DataFrame, root: Path | None) -> SharedFrame:
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)  # a frames_dir under the data dir, at first use
    _sweep(root)
    folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root)
    try:
        return _write(frame, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no partial frame left behind
        raise


def _write(frame: pd.DataFrame, folder: str) -> SharedFrame:
    blocks: list[_Block] = []
    by_dtype: dict[str, list[str]] = {}
    for c, dtype in frame.dtypes.items():
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            by_dtype.setdefault(str(dtype), []).append(str(c))
    numeric = {c for cols in by_dtype.values() for c in cols}
    for i, (dtype, cols) in enumerate(by_dtype.items()):
        arr = np.ascontiguousarray(frame[cols].to_numpy(dtype=dtype).T)
        name = f"block{i}.npy"
        np.save(Path(folder) / name, arr, allow_pickle=False)
        blocks.append(_Block(name, cols))
    rest = frame[[c for c in frame.columns if c not in numeric]]
    with (Path(folder) / _REST).open("wb") as f:
        pickle.dump((frame.index, rest), f, protocol=pickle.HIGHEST_PROTOCOL)
    return SharedFrame(folder, frame.index, [str(c) for c in frame.columns], blocks, rest)


def unpublish(shared: SharedFrame) -> None:
    shutil.rmtree(shared.folder, ignore_errors=True)


def _sweep(root: Path | None) -> None:
    """Remove folders left by runs that were killed (their process is gone)."""
    where = root or Path(tempfile.gettempdir())
    with contextlib.suppress(OSError):
        for p in where.glob(_PREFIX + "*"):
            pid = p.name[len(_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not _platform.HOST.pid_alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)
