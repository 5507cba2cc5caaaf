"""A model's own output (prints, LightGBM's warnings, a C library writing to fd 2), captured.

Each prediction child gets the write end of a pipe as its file descriptors 1 and 2 (fd level,
so output of C code is caught too); the run drains the read end as it waits for the children,
keeping a bounded head and tail. What a model printed becomes part of its outcome, never of
the run's own output (a JSON log on stderr, a summary on stdout).
"""

from __future__ import annotations

import contextlib
import os
from multiprocessing import reduction
from typing import Any

from ._child import StderrFd, _detach

HEAD_BYTES = 2_000
TAIL_BYTES = 6_000
"""What is kept of a model's output: its first and last bytes (the rest is counted)."""
_READ = 65_536


class OutputFd(StderrFd):
    """Pickles as a duplicate of ``fd`` (the pipe's write end), received by the child as an
    int: the child makes it its stdout and stderr (see _child._isolate)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (_detach, (reduction.DupFd(self.fd),))


class Capture:
    """One child's output pipe; :meth:`drain` never blocks."""

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def fileno(self) -> int:
        """The read end, to wait on with the children's pipes."""
        return self._read

    def child_end(self) -> OutputFd:
        return OutputFd(self._write)

    def started(self) -> None:
        """The child has its copy of the write end: drop ours, so only the child holds it."""
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    def drain(self) -> None:
        """Read what the child wrote so far (bounded number of reads: at most ~1 MB a call)."""
        for _ in range(16):
            if self._closed:
                return
            try:
                chunk = os.read(self._read, _READ)
            except BlockingIOError:
                return
            except OSError:
                self.close()
                return
            if not chunk:
                self.close()
                return
            self._keep(chunk)

    def _keep(self, chunk: bytes) -> None:
        room = HEAD_BYTES - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        if len(self._tail) > TAIL_BYTES:
            cut = len(self._tail) - TAIL_BYTES
            self._dropped += cut
            del self._tail[:cut]

    def text(self) -> str:
        """What was kept, as text (``[... N bytes left out ...]`` where the middle was cut)."""
        middle = f"\n[... {self._dropped} bytes left out ...]\n" if self._dropped else ""
        raw = bytes(self._head).decode("utf-8", "replace")
        return raw + middle + bytes(self._tail).decode("utf-8", "replace")

    def finish(self) -> str:
        """Drain what is left (the child has ended), close, and return the text."""
        self.drain()
        self.close()
        return self.text()

    def close(self) -> None:
        self.started()
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                os.close(self._read)
