"""Where the deployment artifacts live, and the tools the tests call."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """A command from the project's venv, else from PATH (checkov lives in .venv-tools/bin)."""
    beside = VENV_BIN / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)
