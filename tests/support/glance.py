"""Helpers of the glance tests: the CLI in this process with a rig's environment, and the
``status`` document read by model and round."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from numerai_autopilot.cli.app import run_cli

from .invariants import iter_lines
from .rig import Rig


def cli(rig: Rig, capfd: Any, *argv: str, **env: str) -> tuple[int, str, str]:
    """``numerai-autopilot ARGV`` in this process: (exit code, stdout, stderr)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(rig.env(**env))
    try:
        capfd.readouterr()
        code = run_cli(list(argv))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    cap = capfd.readouterr()
    return code, cap.out, cap.err


def doc(out: str, event: str) -> dict[str, Any]:
    """The one JSON line of ``out`` whose event is ``event``."""
    (found,) = [d for d in iter_lines(out) if d.get("event") == event]
    return found


def marks(status: dict[str, Any], model: str) -> dict[int, str]:
    """round -> mark of ``model``'s row in a ``status`` document."""
    for section in status["sections"]:
        for row in section["rows"]:
            if row["model"] == model:
                return {c["round"]: c["mark"] for c in row["cells"]}
    raise AssertionError(f"no row for {model} in {status}")


def cell(status: dict[str, Any], model: str, number: int) -> dict[str, Any]:
    for section in status["sections"]:
        for row in section["rows"]:
            if row["model"] == model:
                (found,) = [c for c in row["cells"] if c["round"] == number]
                return dict(found)
    raise AssertionError(f"no row for {model} in {status}")


def chromium() -> str | None:
    """The headless browser of this machine (Debian's chromium package), or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def browse(browser: str, page: Path, profile: Path, *args: str, timeout: float = 120) -> str:
    """Run ``browser`` headless on ``page`` (file://) with ``args``; its stdout. A fresh
    profile dir per call; no network is needed (the page has no external asset)."""
    import subprocess

    cmd = [
        browser,
        "--headless",
        "--no-sandbox",  # root in a container: the sandbox needs user namespaces
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        # Tests never reach beyond loopback: no background fetches, no name ever resolved.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pings",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}",
        *args,
        page.resolve().as_uri(),
    ]
    env = {**os.environ, "HOME": str(profile)}
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
