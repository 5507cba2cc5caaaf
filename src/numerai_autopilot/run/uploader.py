"""Validation and uploads on one background thread: the scheduling loop never waits for them.

``predict_many`` calls its result hook between starting workers; validating (numerai-tools)
and uploading (three requests) there kept a core idle for 0.3-0.5 s per model. The hook now
only queues; one thread, in arrival order, runs the same :class:`Submitter`, so its promises
hold unchanged: one look before the first upload, the ledger's "upload" stage recorded before
each upload, one confirmation after the last (in the run's thread, after :meth:`close`).

The queue is bounded (a full queue makes the hook wait: memory stays bounded by a few
prediction vectors). The thread writes the ledger through its own connection (SQLite's are
per thread; WAL lets both write). An error in the thread is raised again in the run's thread;
on an interrupt, queued uploads are dropped (those models stay unfinished: interrupted) and
the one in flight is let finish, so that no upload is cut in half unrecorded.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from types import TracebackType

import pandas as pd

from .context import RunContext
from .job import Job
from .ledger import Ledger
from .submit import Submitter

log = logging.getLogger(__name__)

_CAPACITY = 8
_JOIN_SECONDS = 120.0  # an upload in flight at an interrupt: its own HTTP timeouts bound it


class Uploader:
    """Queue ``submit`` calls to a background :class:`Submitter`; ``close`` waits for them."""

    def __init__(self, ctx: RunContext, capacity: int = _CAPACITY) -> None:
        self.ctx = ctx
        self.submitter = Submitter(ctx)
        self._queue: queue.Queue[tuple[Job, pd.Series] | None] = queue.Queue(capacity)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="uploader", daemon=True)
        self._thread.start()

    def submit(self, job: Job, preds: pd.Series) -> None:
        """Queue ``job``'s predictions (waits only while the queue is full)."""
        self._raise()
        self._queue.put((job, preds))

    def close(self) -> None:
        """Wait for every queued submit; raise what the thread raised."""
        self._queue.put(None)
        self._thread.join()
        self._raise()
        self.submitter.ctx = self.ctx  # confirm() runs in the run's thread, its ledger

    def __enter__(self) -> Uploader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None or not self._thread.is_alive():
            return
        self._stop.set()  # interrupted or failed: drop what is queued, finish what is in flight
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._queue.put(None)
        self._thread.join(_JOIN_SECONDS)
        if self._thread.is_alive():
            log.warning("an upload was still running at exit; the next run asks the API first")

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        try:
            with Ledger(self.ctx.settings.state_path) as ledger:
                self.submitter.ctx = dataclasses.replace(self.ctx, ledger=ledger)
                while (item := self._queue.get()) is not None:
                    if not self._stop.is_set():
                        self.submitter.submit(*item)
        except BaseException as exc:  # noqa: BLE001  raised again in the run's thread
            self._error = exc
            self._stop.set()
            while self._queue.get() is not None:  # unblock a producer waiting on a full queue
                pass
