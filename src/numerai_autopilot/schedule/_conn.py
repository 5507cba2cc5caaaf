"""The webhook server's connection handling: bounded in threads, time and log noise.

- **A cap on connections.** At most ``max_connections`` handler threads. Near the cap, the
  oldest connection still sending its request head is cut to make room (a slow
  client cannot starve a fast one: a valid call sends its request at once and is served in
  milliseconds); when every slot is busy past its head, the new connection gets a ``503`` at
  once, without a thread.
- **A total deadline per request.** Every read of a connection waits at most what is left of
  ``deadline`` seconds since it was accepted, so a client sending a byte a second is cut after
  ``deadline`` seconds in all, not per read.
- **Accept errors back off.** Out of file descriptors (``EMFILE``), the listening socket stays
  readable: the stdlib would retry at once, forever, on a full core. Here each failure waits,
  doubling up to a second, and is logged once per burst.
- **Errors are one log line.** A client that goes away (broken pipe, reset, timeout) is not an
  error; anything else is logged as one line, never as the stdlib's traceback on stderr.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import socket
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

MAX_CONNECTIONS = 64
DEADLINE = 10.0
_SPARE = 8  # slots kept for connections being cut
_BUSY_BODY = b'{"error": "too many calls"}'
_BUSY_503 = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
    % (len(_BUSY_BODY), _BUSY_BODY)
)
GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
_RESOURCE_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class DeadlineReader(io.RawIOBase):
    """A socket's reading side whose every read waits only for what is left of a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock, self.deadline = sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(left)
        return self._sock.recv_into(buffer)


class _Slot:
    __slots__ = ("accepted", "cut", "reading_head", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.accepted = sock, time.monotonic()
        self.reading_head, self.cut = True, False


class BoundedServer(ThreadingHTTPServer):
    """A threading HTTP server with a connection cap, eviction, deadlines and quiet errors."""

    daemon_threads = True
    request_queue_size = 128  # a burst of connections waits in the kernel, not refused

    def __init__(
        self,
        address: tuple[str, int],
        handler: Any,
        max_connections: int = MAX_CONNECTIONS,
        deadline: float = DEADLINE,
    ) -> None:
        if max_connections <= _SPARE:
            raise ValueError(f"max_connections must be over {_SPARE}")
        self.max_connections, self.deadline = max_connections, deadline
        self._slots: dict[int, _Slot] = {}
        self._slots_lock = threading.Lock()
        self._closing = threading.Event()
        self._accept_delay = 0.0
        self.evicted = self.refused_busy = 0
        super().__init__(address, handler)

    # -- accepting -------------------------------------------------------------------------

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            conn, addr = super().get_request()
        except OSError as exc:
            if exc.errno in _RESOURCE_ERRNOS:
                self._back_off(exc)
            raise
        self._accept_delay = 0.0
        return conn, addr

    def _back_off(self, exc: OSError) -> None:
        if self._accept_delay == 0.0:
            log.error("webhook server cannot accept: %s; backing off", exc.strerror)
        self._accept_delay = min(1.0, max(0.01, self._accept_delay * 2))
        self._closing.wait(self._accept_delay)

    def process_request(self, request: Any, client_address: Any) -> None:
        sock: socket.socket = request
        if not self._admit(sock):
            self.refused_busy += 1
            with contextlib.suppress(OSError):
                sock.send(_BUSY_503, socket.MSG_DONTWAIT)
            self.shutdown_request(sock)
            return
        super().process_request(request, client_address)

    def _admit(self, sock: socket.socket) -> bool:
        """Take a slot for ``sock``; False when all ``max_connections`` are taken.

        Past ``max_connections - _SPARE`` live connections, each new one cuts the oldest
        connection still sending its head; the spare slots hold the connections being cut
        (their threads end in microseconds)."""
        with self._slots_lock:
            if len(self._slots) >= self.max_connections:
                return False
            live = [s for s in self._slots.values() if not s.cut]
            if len(live) >= self.max_connections - _SPARE:
                heads = [s for s in live if s.reading_head]
                if heads:
                    oldest = min(heads, key=lambda s: s.accepted)
                    oldest.cut = True
                    self.evicted += 1
                    with contextlib.suppress(OSError):
                        oldest.sock.shutdown(socket.SHUT_RDWR)
            self._slots[id(sock)] = _Slot(sock)
            return True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._slots_lock:
                self._slots.pop(id(request), None)

    def deadline_for(self, sock: socket.socket) -> float:
        """The monotonic time by which ``sock``'s request must have arrived."""
        with self._slots_lock:
            slot = self._slots.get(id(sock))
        return (slot.accepted if slot is not None else time.monotonic()) + self.deadline

    def head_done(self, sock: socket.socket) -> None:
        """The request head has arrived: this connection is no longer cut to make room."""
        with self._slots_lock:
            slot = self._slots.get(id(sock))
            if slot is not None:
                slot.reading_head = False

    def connections(self) -> tuple[int, int]:
        """(connections open, of which still sending their request head)."""
        with self._slots_lock:
            return len(self._slots), sum(s.reading_head for s in self._slots.values())

    # -- errors ----------------------------------------------------------------------------

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, GONE) or (isinstance(exc, OSError) and exc.errno == errno.ENOTCONN):
            return
        log.error("webhook server error: %s", type(exc).__name__)
        log.debug("webhook server error", exc_info=True)

    def closing(self) -> None:
        """Stop backing off at once: the server is being shut down."""
        self._closing.set()

    def server_close(self) -> None:
        self._closing.set()
        super().server_close()
