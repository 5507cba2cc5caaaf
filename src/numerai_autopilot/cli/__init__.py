"""The command line: a thin layer over the library (see cli/app.py)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]) and return the exit code.

    Without ``argv`` this is the CLI process itself (``numerai-autopilot``, ``python -m``):
    its secrets are first moved out of reach of the model code it will run (``_harden``), and
    it ends the process itself when the command is done (``_exit_quickly``: no return)."""
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
        _exit_quickly(run_cli(None))
    return run_cli(list(argv))


def _exit_quickly(code: int) -> NoReturn:
    """End the CLI process as the interpreter would, without tearing it down: the atexit
    hooks run (logging flushes its handlers, the resident server and multiprocessing's
    children are stopped and reaped), the streams are flushed, then the process exits without
    freeing the objects of ~400 modules one by one (50-80 ms of every command, measured: a
    sixth of the idle run's budget). With a thread of ours or a library's still running (a
    thread pool, say), the interpreter's own exit, which knows how to stop each."""
    import atexit
    import os
    import sys
    import threading

    run_hooks = getattr(atexit, "_run_exitfuncs", None)
    running = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    if run_hooks is None or running:
        sys.exit(code)
    run_hooks()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing left to tell
            stream.flush()
    os._exit(code)


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
