"""The guard that keeps every test on this machine (support/net_guard.py) refuses what leaves it
and lets the loopback through."""

from __future__ import annotations

import contextlib
import socket

import httpx
import pytest

from numerai_autopilot.sandbox import Sandbox
from support import net_guard


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "0.0.0.0", None, ""],  # noqa: S104
)
def test_loopback_hosts_pass(host: str | None) -> None:
    assert net_guard.is_loopback(host)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "192.168.1.1", "8.8.8.8", "2001:db8::1", "example.org", "numer.ai"]
)
def test_other_hosts_do_not(host: str) -> None:
    assert not net_guard.is_loopback(host)


def test_resolving_an_outside_name_is_refused_and_recorded() -> None:
    with pytest.raises(OSError, match="may not leave the machine"):
        socket.getaddrinfo("api-tournament.numer.ai", 443)
    assert net_guard.take() == ["getaddrinfo 'api-tournament.numer.ai'"]


def test_connecting_outside_is_recorded_even_when_the_caller_swallows_it() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        with contextlib.suppress(OSError):  # as a notifier that logs and goes on would
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: refused before any packet is sent
        with pytest.raises(net_guard.LeftTheMachineError):
            s.connect_ex(("192.0.2.1", 9))
    assert net_guard.take() == ["connect 192.0.2.1:9", "connect_ex 192.0.2.1:9"]


def test_sending_a_datagram_outside_is_refused() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(net_guard.LeftTheMachineError):
            s.sendto(b"x", ("192.0.2.1", 53))
        s.sendto(b"x", ("127.0.0.1", 9))  # loopback: allowed (nobody listens; UDP is silent)
    assert net_guard.take() == ["sendto 192.0.2.1:53"]


def test_an_http_client_reaching_outside_is_caught(sb: Sandbox) -> None:
    with httpx.Client(timeout=1.0) as client:
        assert client.get(sb.url + "_sandbox/counters").status_code in (200, 404)
        with pytest.raises(httpx.ConnectError):
            client.get("https://api-tournament.numer.ai/")
    assert net_guard.take() == ["getaddrinfo 'api-tournament.numer.ai'"]
