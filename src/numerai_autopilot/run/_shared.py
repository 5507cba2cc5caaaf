"""The live frame, shared with prediction workers through a read-only memory-mapped file.

Workers start from a clean fork server (no OpenMP pools, threads or secrets of the run), so
they cannot inherit the frame by fork. Instead the run writes the frame's numeric columns once,
as raw ``.npy`` blocks in a private folder (in ``/dev/shm`` when it exists, else in the run's
data dir or a private temp folder: macOS, Windows, the portable mode), and each worker maps
them read-only: no copy, no pickle per model, the pages shared by every worker. The few other
columns (era, data_type) and the index travel with the job: they are small.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _platform

_PREFIX = "numerai-autopilot-frames-"


@dataclass(frozen=True)
class _Block:
    file: str
    columns: list[str]


@dataclass(frozen=True)
class SharedFrame:
    """A picklable handle to a frame published with :func:`publish`."""

    folder: str
    index: pd.Index
    columns: list[str]
    """All columns, in the frame's order."""
    blocks: list[_Block]
    rest: pd.DataFrame
    """The columns that are not numeric (small), with the frame's index."""

    def open(self, *, writable: bool = False) -> pd.DataFrame:
        """The frame. By default its numeric columns are read-only views of the mapped file
        (no copy; columns grouped by dtype, so select them by name). ``writable``: a private
        copy in the original column order, as Numerai hands it to Model Upload functions."""
        parts: list[pd.DataFrame] = []
        for b in self.blocks:
            arr = np.load(Path(self.folder) / b.file, mmap_mode="r")  # (columns, rows)
            parts.append(pd.DataFrame(arr.T, index=self.index, columns=b.columns, copy=False))
        if len(self.rest.columns):
            parts.append(self.rest)
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
        return frame[self.columns].copy() if writable else frame


def publish(frame: pd.DataFrame, base: Path | None = None) -> SharedFrame:
    """Write ``frame`` for workers to map; remove it with :func:`unpublish`."""
    root = base or _platform.HOST.shm
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    _sweep(root)
    folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root)
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
