"""The old home of these helpers (now in support.deploy_paths):
tests elsewhere may still import them from ``deploy_paths``."""

from __future__ import annotations

from support.deploy_paths import DEPLOY, ROOT, VENV_BIN, tool

__all__ = ["DEPLOY", "ROOT", "VENV_BIN", "tool"]
