"""The one atomic writer and the one file hasher."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from numerai_autopilot.fileio import sha256_file, write_atomic

SRC = Path(__file__).resolve().parents[1] / "src" / "numerai_autopilot"


def test_write_atomic_replaces_whole_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "state.json"
    write_atomic(target, "first")
    write_atomic(target, b"second \xe2\x9c\x93")
    assert target.read_bytes() == b"second \xe2\x9c\x93"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_write_atomic_sets_the_mode_before_the_file_appears(tmp_path: Path) -> None:
    target = tmp_path / "sandbox.json"
    write_atomic(target, "{}", mode=0o600)
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_failed_write_keeps_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    write_atomic(target, "old")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_sha256_file_is_the_digest_of_the_content(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    data = os.urandom(3 * 1024 * 1024 + 7)
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_no_other_module_writes_through_its_own_temp_file() -> None:
    """One writer: mkstemp + os.replace live in fileio.py (the cache's rename of a finished,
    verified ``.part`` download is a rename, not a write)."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "fileio.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "mkstemp(" in text or "hashlib.sha256()" in text:
            offenders.append(str(path.relative_to(SRC)))
    assert offenders == []
