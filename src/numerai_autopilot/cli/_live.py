"""The live progress display itself (rich.progress and rich.live: imported only when shown,
see progress_view.py): a bar per download and a line of the models predicting."""

from __future__ import annotations

import threading
import time

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from .. import progress


class TerminalProgress(progress.Listener):
    """A :class:`progress.Listener` drawing on ``console`` (rich redraws it 4 times a second)."""

    def __init__(self, console: Console) -> None:
        self._lock = threading.Lock()
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._predicting: dict[str, float] = {}
        self._busy = 0
        self._workers = 0
        self._done = 0
        self.live = Live(
            Group(self._bars, _Line(self)), console=console, refresh_per_second=4, transient=True
        )

    def download_started(self, dataset: str, done: int, total: int | None) -> None:
        with self._lock:
            name = dataset.rsplit("/", 1)[-1]
            task = self._tasks.get(dataset)
            if task is None:
                self._tasks[dataset] = self._bars.add_task(name, total=total, completed=done)
            else:
                self._bars.reset(task, total=total, completed=done)

    def download_advanced(self, dataset: str, n: int) -> None:
        with self._lock:
            task = self._tasks.get(dataset)
            if task is not None:
                self._bars.advance(task, n)

    def download_finished(self, dataset: str) -> None:
        with self._lock:
            task = self._tasks.pop(dataset, None)
            if task is not None:
                self._bars.remove_task(task)

    def model_started(self, name: str, busy: int, workers: int) -> None:
        with self._lock:
            self._predicting[name] = time.monotonic()
            self._busy, self._workers = busy, workers

    def model_finished(self, name: str, busy: int, workers: int, ok: bool) -> None:
        with self._lock:
            self._predicting.pop(name, None)
            self._busy, self._workers = busy, workers
            self._done += 1

    def line(self) -> Text:
        """``predicting a 3.1s, b 0.4s | 2/2 workers busy | 3 done`` (empty when idle)."""
        with self._lock:
            if not self._predicting:
                return Text("")
            now = time.monotonic()
            names = ", ".join(f"{n} {now - t:.0f}s" for n, t in self._predicting.items())
            busy, workers, done = self._busy, self._workers, self._done
        return Text(f"predicting {names} | {busy}/{workers} workers busy | {done} done")


class _Line:
    """The models line, rendered afresh at each refresh (so elapsed times tick)."""

    def __init__(self, view: TerminalProgress) -> None:
        self._view = view

    def __rich__(self) -> RenderableType:
        return self._view.line()
