"""Progress for people watching a run: the library tells what it is doing, a listener shows it.

The library calls the module functions (a download's bytes, a model starting or ending, a
stage starting or ending); they go to the listener installed with :func:`listening`, by
default one that does nothing. The CLI installs a terminal display (cli/progress_view.py) only
when a person is watching; in JSON mode the stages are log lines instead (see ``stage``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from . import logctx

log = logging.getLogger(__name__)


class Listener:
    """What a progress display implements; every method may be called from any thread."""

    def download_started(self, dataset: str, done: int, total: int | None) -> None:
        """``dataset`` starts downloading; ``done`` bytes are already there (a resume)."""

    def download_advanced(self, dataset: str, n: int) -> None:
        """``n`` more bytes of ``dataset`` arrived."""

    def download_finished(self, dataset: str) -> None:
        """``dataset``'s download ended (complete or not: a retry starts it again)."""

    def model_started(self, name: str, busy: int, workers: int) -> None:
        """``name`` started predicting; ``busy`` of ``workers`` are now at work."""

    def model_finished(self, name: str, busy: int, workers: int, ok: bool) -> None:
        """``name`` finished predicting (``ok``: with predictions)."""


_NULL = Listener()
_listener: list[Listener] = [_NULL]


def current() -> Listener:
    """The installed listener (one that does nothing when none is)."""
    return _listener[-1]


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[Listener]:
    """Send progress to ``listener`` within the block."""
    _listener.append(listener)
    try:
        yield listener
    finally:
        _listener.remove(listener)


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """A stage of the run: a log line as it starts and as it ends (with its seconds), and the
    ``stage`` field on every line logged within it."""
    t0 = time.perf_counter()
    with logctx.bind(stage=name):
        log.info("stage %s started", name, extra={"event": "stage.start"})
        try:
            yield
        finally:
            seconds = time.perf_counter() - t0
            log.info(
                "stage %s ended in %.2fs",
                name,
                seconds,
                extra={"event": "stage.end", "seconds": round(seconds, 3)},
            )
