"""The deployment files kept in the repository's deploy/ folder, rendered from one source.

``repo_files()`` is what ``deploy/kubernetes/cronjob.yaml`` and ``deploy/systemd/*`` contain: a
test keeps them equal, so the slots and settings can never drift between the CLI's output and
the files a user copies.
"""

from __future__ import annotations

from pathlib import Path

from .slots import RECOMMENDED
from .triggers import cron_lines, k8s_cronjob, systemd_units

# Where `pipx install` and `pip install --user` put the console script; systemd expands %h.
REPO_EXECUTABLE = "%h/.local/bin/numerai-autopilot"
CRON_EXECUTABLE = "$HOME/.local/bin/numerai-autopilot"


def repo_files() -> dict[str, str]:
    """Relative path (from the repository root) -> the file's text."""
    out = {"deploy/kubernetes/cronjob.yaml": k8s_cronjob(RECOMMENDED)}
    for name, text in systemd_units(RECOMMENDED, executable=REPO_EXECUTABLE).items():
        out[f"deploy/systemd/{name}"] = text
    out["deploy/systemd/numerai-autopilot.crontab"] = cron_lines(
        RECOMMENDED, executable=CRON_EXECUTABLE
    )
    return out


def write_repo_files(root: Path) -> list[Path]:
    """Write :func:`repo_files` under ``root`` (the maintainers' regeneration step)."""
    written = []
    for rel, text in repo_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
