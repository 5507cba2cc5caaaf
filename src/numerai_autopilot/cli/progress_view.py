"""The live progress a person sees in a terminal: a bar per download (bytes, total, rate, ETA)
and a line of the models predicting (name, elapsed, workers busy). Shown only when stderr is
a terminal and the output is not JSON; it disappears when the run ends (the table follows)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from .. import progress
from .logs import stderr_console


@contextlib.contextmanager
def showing(as_json: bool) -> Iterator[None]:
    """Live progress within the block when a person watches (stderr a terminal, not JSON)."""
    console = None if as_json or not sys.stderr.isatty() else stderr_console()
    if console is None or not console.is_terminal:
        yield
        return
    from ._live import TerminalProgress  # rich's live display: not imported by a JSON run

    view = TerminalProgress(console)
    with view.live, progress.listening(view):
        yield
