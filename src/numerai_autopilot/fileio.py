"""Whole-file writes and digests: the one atomic writer and the one file hasher.

A reader (another process sharing a cache, a scheduler restarted mid-write) sees the old file
or the whole new one, never a part: data goes to a temp file in the same folder, then
``os.replace`` swaps it in. Temp files are ``.<name>.<random>.tmp``, removed on any failure.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["sha256_file", "write_atomic"]


def write_atomic(path: Path, data: bytes | str, *, mode: int | None = None) -> None:
    """Write ``data`` (str as UTF-8) to ``path`` atomically, creating its folder. ``mode``
    sets the permission bits before the file appears (0o600 for a file holding a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # leave no half-written temp file behind
        raise


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file's content."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
