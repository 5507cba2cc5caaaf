"""The command line: a thin layer over the library (see cli/app.py)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]) and return the exit code.

    Without ``argv`` this is the CLI process itself (``numerai-autopilot``, ``python -m``):
    its secrets are first moved out of reach of the model code it will run (``_harden``)."""
    from .app import run_cli

    if argv is None:
        _harden()

    return run_cli(list(argv) if argv is not None else None)


def _harden() -> None:
    from .._harden import harden_process
    from ..config import SECRET_OPTIONS, seal_secret_environ, secret_env_names

    harden_process(secret_env_names(), SECRET_OPTIONS)
    seal_secret_environ()
