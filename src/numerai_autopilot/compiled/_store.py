"""The compiled-model cache on disk: one folder per (artifact, engine versions).

Layout, under ``<state>/compiled`` (beside the data cache)::

    <artifact sha256[:16]>-<key[:16]>/   forest.bin  sample.npy  expected.npy  meta.json
                                          [rejected.json: a run found it wrong]
    samples/<tournament>.npz              live rows a run stored, to verify against
    jit/                                  the forest walks as native objects (machine code)
    .compile.lock                         held by the one preparation at a time

The walk's machine code is loaded and run like an unpickled model: the cache gets the models
folder's trust. Folders are created owner-only and an entry is used only when it and the root
belong to this user and nobody else may write them. An entry appears whole or not at all: it is
built in a temporary folder and renamed into place.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import filelock

from ..fileio import sha256_file, write_atomic

META = "meta.json"
OBJECT = "forest.bin"
SAMPLE = "sample.npy"
EXPECTED = "expected.npy"
REJECTED = "rejected.json"
VERIFIED, BAD = "verified", "bad"
FORMAT = 3  # 1 was an lleaves object (model.o); 2 the forest arrays as npz; 3 forest.bin
_SAMPLE_MAX_AGE = 7 * 86400.0  # a run refreshes the stored live rows at most weekly


@dataclass(frozen=True)
class Engine:
    """The versions an entry depends on: a change of any makes a new entry. (The walk's
    machine code is numba's to key: its cache is per numba version and CPU.)"""

    numba: str
    lightgbm: str
    numpy: str

    @classmethod
    def installed(cls) -> Engine | None:
        """The installed versions (no import), or None without the ``fast`` extra. Read once
        per process (importlib.metadata parses each package's metadata: 17 ms in every
        worker, before), and by the fork server before it forks (compiled/preload.py)."""
        return _installed()


@functools.cache
def _installed() -> Engine | None:
    try:
        return Engine(*(metadata.version(n) for n in ("numba", "lightgbm", "numpy")))
    except metadata.PackageNotFoundError:
        return None


def entry_name(artifact_sha256: str, engine: Engine) -> str:
    key = json.dumps(
        {"artifact": artifact_sha256, "engine": engine.__dict__, "v": FORMAT}, sort_keys=True
    )

    return f"{artifact_sha256[:16]}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def untrusted(path: Path) -> str | None:
    """Why code under ``path`` must not be loaded (someone else owns it or may write it)."""
    try:
        st = path.stat()
    except OSError as exc:
        return f"{path}: {exc.strerror}"
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        return f"{path} belongs to another user"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{path} is writable by others (chmod go-w)"
    return None


class CompiledStore:
    """The cache folder: entries, stored samples, the compile lock."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)

    def lock(self) -> filelock.BaseFileLock:
        """The one-compile-at-a-time lock (taken with timeout 0: a busy cache is skipped)."""
        self.ensure()
        return filelock.FileLock(str(self.root / ".compile.lock"))

    def compiling(self) -> bool:
        """Whether another process holds the compile lock now."""
        lock = self.lock()
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            return True
        lock.release()
        return False

    def entry(self, name: str) -> Path:
        return self.root / name

    def meta(self, name: str) -> dict[str, Any] | None:
        """The entry's metadata, or None when missing or unreadable (then it is rebuilt)."""
        try:
            doc = json.loads((self.entry(name) / META).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None

    def problem(self, name: str, *, hash_object: bool = True) -> str | None:
        """Why the entry cannot be used as it is (None: complete, verified, unchanged).
        ``hash_object=False``: the caller hashes the bytes it reads itself (one read, not
        two, of a 6 MB entry in every worker)."""
        meta = self.meta(name)
        if meta is None:
            return "missing or unreadable metadata"
        if meta.get("status") != VERIFIED:
            return f"marked bad: {meta.get('reason')}"
        rejected = self.rejected(name)
        if rejected is not None:
            return f"rejected by a run: {rejected}"
        obj = self.entry(name) / OBJECT
        for p in (self.root, self.entry(name), obj):
            why = untrusted(p)
            if why is not None:
                return why
        if hash_object and sha256_file(obj) != meta.get("object_sha256"):
            return "the compiled object changed since it was verified"
        return None

    def rejected(self, name: str) -> str | None:
        try:
            doc = json.loads((self.entry(name) / REJECTED).read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return "unreadable rejection note"
        return str(doc.get("reason", "")) if isinstance(doc, dict) else "unreadable"

    def reject(self, name: str, reason: str) -> None:
        """Mark an entry as not to be used again until rebuilt (a run found it wrong)."""
        doc = {"reason": reason, "at": time.time()}
        with contextlib.suppress(OSError):  # a read-only cache: the run falls back regardless
            write_atomic(self.entry(name) / REJECTED, json.dumps(doc), mode=0o600)

    def staging(self, name: str) -> Path:
        """A fresh owner-only folder to build ``name`` in (renamed into place by install)."""
        self.ensure()
        return Path(tempfile.mkdtemp(prefix=f".tmp-{name}-", dir=self.root))

    def install(self, staged: Path, name: str) -> None:
        """Swap the staged folder in for ``name``; a run meanwhile finds the old entry, the new
        one, or none (then it uses LightGBM), never a part."""
        target = self.entry(name)
        old: Path | None = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{name}-", dir=self.root))
            os.replace(target, old / "entry")
        os.replace(staged, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def sweep(self) -> None:
        """Remove what interrupted compiles left (only under the compile lock)."""
        for p in self.root.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for p in self.root.glob(".old-*"):
            shutil.rmtree(p, ignore_errors=True)

    def sample_path(self, label: str) -> Path:
        return self.root / "samples" / f"{label}.npz"

    def sample_stale(self, label: str) -> bool:
        try:
            return time.time() - self.sample_path(label).stat().st_mtime > _SAMPLE_MAX_AGE
        except OSError:
            return True

    @property
    def jit(self) -> Path:
        """The forest walks compiled for this machine (``_kernel``; created owner-only)."""
        return self.root / "jit"

    def ready(self, artifact_sha256: str) -> bool:
        """Whether some verified entry exists for the artifact (cheap: for preloading the
        walk; the worker checks the exact key and the entry itself)."""
        for d in self.root.glob(f"{artifact_sha256[:16]}-*"):
            meta = self.meta(d.name)
            if meta and meta.get("status") == VERIFIED and not (d / REJECTED).exists():
                return True
        return False


def write_file(path: Path, data: bytes) -> None:
    write_atomic(path, data, mode=0o600)
