"""No test leaves the machine: connecting to, sending to or resolving any address outside the
loopback range fails the test that did it (tests/conftest.py checks after every test).

The guard wraps the socket layer every client here goes through (httpx/httpcore, requests,
urllib, asyncio, apprise): ``socket.socket.connect``/``connect_ex``/``sendto`` and the resolver
calls. A refused call raises ``OSError`` (what a real unreachable host gives), and is recorded:
code under test may swallow the error (a notifier that logs and goes on), so the record, not the
exception, is what fails the test. Forked workers inherit the guard; other processes (CLI
subprocesses) do not: those tests point them at the sandbox only.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_lock = threading.Lock()
_seen: list[str] = []
_originals: dict[str, Any] = {}


class LeftTheMachineError(OSError):
    """A test tried to reach or resolve a host outside the loopback range."""


def is_loopback(host: object) -> bool:
    """``host`` (an IP, a name or None for "any local") stays on this machine."""
    if host is None or host == "":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0]
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    # 0.0.0.0 / :: : "any local address" (bind; a connect to it reaches this machine).
    return address.is_loopback or address.is_unspecified


def _refuse(what: str) -> LeftTheMachineError:
    with _lock:
        if len(_seen) < 100:
            _seen.append(what)
    return LeftTheMachineError(f"tests may not leave the machine: {what}")


def _check_address(sock: socket.socket, address: Any, call: str) -> None:
    inet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
    if inet and not is_loopback(address[0]):
        raise _refuse(f"{call} {address[0]}:{address[1]}")


def _wrap_method(name: str) -> None:
    original: Callable[..., Any] = getattr(socket.socket, name)
    _originals[name] = original

    def guarded(self: socket.socket, *args: Any) -> Any:
        address = args[-1] if name == "sendto" else args[0]
        _check_address(self, address, name)
        return original(self, *args)

    setattr(socket.socket, name, guarded)


def _wrap_resolver(name: str) -> None:
    original: Callable[..., Any] = getattr(socket, name)
    _originals[name] = original

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback(host):
            raise _refuse(f"{name} {host!r}")
        return original(host, *args, **kwargs)

    setattr(socket, name, guarded)


def install() -> None:
    """Guard this process's sockets (idempotent)."""
    if _originals:
        return
    for method in ("connect", "connect_ex", "sendto"):
        _wrap_method(method)
    for resolver in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
        _wrap_resolver(resolver)


def take() -> list[str]:
    """What was refused since the last call (and forget it)."""
    with _lock:
        seen = list(_seen)
        _seen.clear()
    return seen
