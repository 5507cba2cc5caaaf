"""A run remembers each artifact's sha256 by its stat stamp (the choice of preloads only; the
worker hashes what it uses): unchanged files are not read again, changed ones are."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from numerai_autopilot.fileio import sha256_file
from numerai_autopilot.run import _artifact_hashes as ah


def test_a_hash_is_read_from_the_file_once_and_again_after_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "model.txt"
    model.write_bytes(b"tree\n" * 1000)
    reads: list[Path] = []

    def counting(path: Path) -> str:
        reads.append(path)
        return sha256_file(path)

    monkeypatch.setattr(ah, "sha256_file", counting)
    first = ah.ArtifactHashes(tmp_path)
    old = first.sha256(model)
    assert old == hashlib.sha256(model.read_bytes()).hexdigest()
    first.save()
    assert (tmp_path / ah.FILE).stat().st_mode & 0o077 == 0
    again = ah.ArtifactHashes(tmp_path)
    assert again.sha256(model) == old
    assert len(reads) == 1  # the second run read the stamp, not the 5 kB
    stat = model.stat()
    model.write_bytes(b"tree\r\n" * 1000)
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: ctime still moves
    changed = ah.ArtifactHashes(tmp_path).sha256(model)
    assert changed == hashlib.sha256(model.read_bytes()).hexdigest() != old
    assert len(reads) == 2


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"x": "y"}'])
def test_a_damaged_file_means_hashing_again(tmp_path: Path, text: str) -> None:
    (tmp_path / ah.FILE).write_text(text)
    model = tmp_path / "m.txt"
    model.write_bytes(b"abc")
    assert ah.ArtifactHashes(tmp_path).sha256(model) == hashlib.sha256(b"abc").hexdigest()
