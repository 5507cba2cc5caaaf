"""Disk full, a read-only data dir, a missing models dir, a models file with every kind of
mistake, an artifact swapped under its sha256 pin, alert channels down: each a clear error and
nothing lost (issue 4: hostile environment)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from support.invariants import check_invariants
from support.rig import CLASSIC, Rig


def test_disk_full_during_download_fails_clearly_then_converges(rig: Rig, capfd: Any) -> None:
    part = rig.data_dir / "cache" / f"classic-round-{rig.round_number()}" / "v5.2"
    part.mkdir(parents=True)
    (part / "live.parquet.part").symlink_to("/dev/full")  # every write: ENOSPC
    first = rig.cli(capfd=capfd)
    check_invariants(
        rig, first, exit_code=1, failed=dict.fromkeys(CLASSIC, "No space left on device")
    )
    assert "check free space" in first.out
    (part / "live.parquet.part").unlink()  # space freed
    second = rig.cli(capfd=capfd)
    check_invariants(rig, second, exit_code=0, outputs=[first.out])


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """``path`` read-only for this process: a read-only bind mount (root ignores modes)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)
        return
    mounted = subprocess.run(
        ["mount", "--bind", "-o", "ro", str(path), str(path)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("root without mount rights: cannot make a read-only directory")
    try:
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_read_only_data_dir_is_a_configuration_error_naming_the_setting(
    rig: Rig, capfd: Any
) -> None:
    with _read_only(rig.data_dir):
        res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="NUMERAI_DATA_DIR")
    assert rig.sb.submissions() == []
    assert "Read-only file system" in res.out or "Permission denied" in res.out


def test_missing_models_dir_is_a_configuration_error_and_alerts(rig: Rig, capfd: Any) -> None:
    res = rig.cli(capfd=capfd, NUMERAI_MODELS_DIR=str(rig.base / "no-such-dir"))
    check_invariants(rig, res, exit_code=2, crashed="set NUMERAI_MODELS_DIR")


def test_models_file_with_every_kind_of_mistake_names_each(rig: Rig, capfd: Any) -> None:
    (rig.models_dir / "models.toml").write_text(
        """
[[model]]
name = "typo"
entrypoint = "my_models:m_typo"
fromat = "lightgbm"

[[model]]
name = "bad_pin"
artifact = "x.txt"
sha256 = "abc"

[[model]]
name = "bad_format"
artifact = "x.txt"
format = "tensorflow"

[[model]]
name = "bad_timeout"
entrypoint = "my_models:m_x"
timeout = -5
"""
    )
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="invalid models file")
    for needle in (
        "model #1 ('typo'): fromat: unknown field",
        "model #2 ('bad_pin'): sha256",
        "model #3 ('bad_format'): format: unknown format",
        "model #4 ('bad_timeout'): timeout",
    ):
        assert needle in res.out, needle


def test_unreadable_models_file_is_a_configuration_error(rig: Rig, capfd: Any) -> None:
    (rig.models_dir / "models.toml").write_text('[[model]\nname = "x"\n')
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="not valid TOML")


def test_semantic_mistakes_are_reported_together(rig: Rig, capfd: Any) -> None:
    (rig.models_dir / "models.toml").write_text(
        """
[[model]]
name = "no_artifact"
format = "lightgbm"

[[model]]
name = "outside"
artifact = "../../etc/passwd"

[[model]]
name = "dup"
entrypoint = "my_models:m_dup"

[[model]]
name = "dup"
entrypoint = "my_models:m_dup"

[[model]]
name = "bad_blend"
blend = { nobody = 1.0 }

[[model]]
name = "bad_tournament"
tournament = "futures"
entrypoint = "my_models:m_x"
"""
    )
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="invalid models file")
    for needle in (
        "artifact: missing",
        "points outside the models dir",
        "duplicate model name",
        "no entry named 'nobody'",
        "unknown tournament 'futures'",
    ):
        assert needle in res.out, needle


def test_artifact_swapped_under_its_pin_fails_that_model_only(rig: Rig, capfd: Any) -> None:
    import hashlib

    rig.sb.add_model("pinned_duck", 8)

    def predict(live: Any) -> Any:
        return (
            live.filter(like="feature_").iloc[:, :5].astype("float32").mean(axis=1).rank(pct=True)
        )

    path = rig.models_dir / "pinned.pkl"
    path.write_bytes(cloudpickle.dumps(predict))
    pin = hashlib.sha256(path.read_bytes()).hexdigest()
    rig.write_models(
        extra_toml=f'[[model]]\nname = "pinned_duck"\nartifact = "pinned.pkl"\nsha256 = "{pin}"\n'
    )
    path.write_bytes(path.read_bytes() + b"\n")  # swapped after pinning
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig,
        res,
        exit_code=1,
        failed={"pinned_duck": "the models file pins"},
        models=[*CLASSIC, "pinned_duck"],
    )


def test_alert_channels_down_never_change_the_outcome(rig: Rig, capfd: Any) -> None:
    rig.receiver.status = 500
    rig.knobs(**{"raise": ["netta_rufina"]})
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=1, failed={"netta_rufina": "exploded"}, notified=False)
    assert "healthcheck ping /fail to 127.0.0.1" in res.out and "HTTP 500" in res.out
    assert "could not be delivered" in res.out


def test_unreachable_alert_endpoints_are_logged_and_the_run_succeeds(rig: Rig, capfd: Any) -> None:
    dead = "127.0.0.1:9"  # discard port: nothing listens
    res = rig.cli(
        capfd=capfd,
        NUMERAI_NOTIFY_URLS=f"json://{dead}/x/tok-9a8b7c6d5e4f",
        NUMERAI_HEALTHCHECK_URL=f"http://{dead}/hc/hc-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    )
    check_invariants(rig, res, exit_code=0, notified=False)
    assert "ConnectError" in res.out
