"""Artifacts' sha256 remembered across runs by their file's stat stamp.

A run with prepared LightGBM models looks up each artifact's entry by its sha256 to choose the
fork server's preloads before the download starts: hashing 20 example-size models (112 MB)
was 0.2 s there, every run. A file whose stamp (device, inode, size, mtime and ctime in ns)
is unchanged keeps its hash; any write changes its ctime. The worker hashes the file itself
before it uses an entry, so a stale hash here could only make a preload wrong, never a
prediction.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ..fileio import sha256_file, write_atomic

log = logging.getLogger(__name__)

FILE = "artifacts.json"
_MAX = 10_000  # entries kept: more than any models folder has


def stamp(path: Path) -> tuple[int, int, int, int, int]:
    """What changes with any write to the file: device, inode, size, mtime and ctime (ns)."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class ArtifactHashes:
    """``<folder>/artifacts.json``: path -> [stamp..., sha256]; read once, written once."""

    def __init__(self, folder: Path) -> None:
        self._path = folder / FILE
        self._known: dict[str, list[object]] = {}
        self._changed = False
        try:
            doc = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # none yet, or damaged: hashed again
        if isinstance(doc, dict):
            self._known = {k: v for k, v in doc.items() if isinstance(v, list) and len(v) == 6}

    def sha256(self, path: Path) -> str:
        now: list[object] = list(stamp(path))
        key = str(path.resolve())
        known = self._known.get(key)
        if known is not None and known[:5] == now and isinstance(known[5], str):
            return known[5]
        sha = sha256_file(path)
        self._known[key] = [*now, sha]
        self._changed = True
        return sha

    def save(self) -> None:
        if not self._changed:
            return
        keep = dict(list(self._known.items())[-_MAX:])
        try:
            write_atomic(self._path, json.dumps(keep), mode=0o600)
        except OSError as exc:  # the next run hashes again
            log.debug("could not write %s: %s", self._path, exc)
        self._changed = False
