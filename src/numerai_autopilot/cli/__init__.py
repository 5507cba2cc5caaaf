"""The command line: a thin layer over the library (see cli/app.py)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]) and return the exit code.

    Without ``argv`` this is the CLI process itself (``numerai-autopilot``, ``python -m``):
    its secrets are first moved out of reach of the model code it will run (``_harden``)."""
    import sys

    # httpx imports its own command-line tool (httpx._main: click, pygments and rich, about
    # 50 ms of every start) whenever click is installed, which apprise and numerapi bring; this
    # process never runs that tool. None in sys.modules makes the import fail as if click were
    # missing, which httpx expects (its `httpx` command, another process, is not affected).
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from .app import run_cli

    if argv is None:
        _harden()
        _stop_on_sigterm()

    return run_cli(list(argv) if argv is not None else None)


def _harden() -> None:
    from .._harden import harden_process
    from ..config import SECRET_OPTIONS, seal_secret_environ, secret_env_names

    harden_process(secret_env_names(), SECRET_OPTIONS)
    seal_secret_environ()


def _stop_on_sigterm() -> None:
    """SIGTERM (docker stop, a Kubernetes pod's deletion, systemctl stop) stops the CLI as
    Ctrl-C does: a run records its unfinished models as interrupted and exits 130, and the next
    run resumes them. Python's default would end the process on the spot, unrecorded (and as
    a container's PID 1 it would ignore the signal). ``schedule`` and ``serve`` set their own."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
