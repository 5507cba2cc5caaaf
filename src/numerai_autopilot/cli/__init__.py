"""The command line: a thin layer over the library (see cli/app.py)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    from .app import run_cli

    return run_cli(list(argv) if argv is not None else None)
