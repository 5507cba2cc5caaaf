"""The webhook server under hostile input, over raw sockets on 127.0.0.1: every malformed
request gets its 4xx and no traceback, slow clients are cut, the connection cap holds."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from numerai_autopilot.errors import ConfigError
from numerai_autopilot.schedule import FailureLimiter, WebhookServer, WebhookTrigger
from numerai_autopilot.schedule._job import JobResult

SECRET = "abuse-secret-" + "z" * 30


class Recorder:
    """The job seam of WebhookTrigger: records each start (no run needed to test HTTP)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.started = threading.Event()
        self.ids: list[str | None] = []
        self.fail = fail

    def __call__(self, trigger_id: str | None, stop: threading.Event) -> JobResult:
        self.ids.append(trigger_id)
        self.started.set()
        if self.fail is not None:
            raise self.fail
        return JobResult()


@pytest.fixture
def job() -> Recorder:
    return Recorder()


@pytest.fixture
def server(job: Recorder) -> Iterator[WebhookServer]:
    trigger = WebhookTrigger(SECRET, job, limiter=FailureLimiter(limit=3, window=60))
    with WebhookServer(trigger, max_connections=16, deadline=1.5) as srv:
        yield srv


def _raw(srv: WebhookServer, data: bytes, timeout: float = 5.0) -> bytes:
    """Send ``data`` and read the whole answer (the server closes after one request)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


POST = b"POST /webhook/" + SECRET.encode() + b" HTTP/1.1\r\n"
MALFORMED = {
    "empty line": (b"\r\n", 400),
    "garbage": (b"\x16\x03\x01\x02\x00garbage\r\n\r\n", 400),
    "missing version": (b"GET /health\r\n\r\n", 400),
    "HTTP/0.9": (b"GET /health HTTP/0.9\r\n\r\n", 400),
    "bad version": (b"GET /health HTTP/1.x\r\n\r\n", 400),
    "HTTP/2": (b"GET /health HTTP/2.0\r\n\r\n", 505),
    "too long": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    "non-ASCII": ("GET /h\u00e9alth HTTP/1.1\r\n\r\n".encode(), 400),
    "CR injection": (b"GET /health\rX-Injected: 1 HTTP/1.1\r\n\r\n", 400),
    "LF injection": (b"GET /he\nalth HTTP/1.1\r\n\r\n", 400),
    "header without colon": (b"GET /health HTTP/1.1\r\nNoColonHere\r\n\r\n", 400),
    "header folding": (b"GET /health HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
    "CR in a header": (b"GET /health HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n", 400),
    "too many headers": (
        b"GET /health HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
        431,
    ),
    "header too long": (b"GET /health HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "unknown method": (b"BREW /health HTTP/1.1\r\n\r\n", 501),
    "Content-Length not a number": (POST + b"Content-Length: abc\r\n\r\n", 400),
    "Content-Length negative": (POST + b"Content-Length: -5\r\n\r\n", 400),
    "Content-Length huge": (POST + b"Content-Length: 99999999999999999999999\r\n\r\n", 413),
    "Content-Length twice, different": (
        POST + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        400,
    ),
    "chunked body": (POST + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411),
}


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_malformed_request_gets_its_status_and_no_traceback(
    server: WebhookServer,
    job: Recorder,
    kind: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    data, code = MALFORMED[kind]
    answer = _raw(server, data)
    assert _status(answer) == code, answer[:200]
    assert answer.split(b"\r\n\r\n", 1)[1].startswith(b'{"error": ')
    # The server still serves, and nothing was started or printed.
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    assert job.ids == []
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_head_health_answers_200_and_is_never_counted(server: WebhookServer) -> None:
    for _ in range(10):  # over the limiter's 3 refusals
        answer = _raw(server, b"HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _status(answer) == 200 and answer.endswith(b"\r\n\r\n")  # headers, no body
    assert server.trigger.health()["calls"]["refused"] == 0
    # Not limited: a wrong secret still gets the plain 404, not a 429.
    assert httpx.post(f"{server.url}/webhook/nope", timeout=5).status_code == 404


def test_health_shows_the_class_of_an_error_unless_authenticated() -> None:
    leak = "/home/alice/models/secret_alpha.pkl: model secret_alpha failed"
    job = Recorder(fail=ConfigError(leak))
    with WebhookServer(WebhookTrigger(SECRET, job)) as srv:
        httpx.post(f"{srv.url}/webhook/{SECRET}", timeout=5)
        assert srv.trigger.wait_idle(10)
        public = httpx.get(f"{srv.url}/health", timeout=5)
        assert public.json()["last_run"]["error"] == "config"
        assert "alice" not in public.text and "secret_alpha" not in public.text
        wrong = httpx.get(f"{srv.url}/health", headers={"Authorization": "Bearer x"}, timeout=5)
        assert wrong.json()["last_run"]["error"] == "config"
        full = httpx.get(
            f"{srv.url}/health", headers={"Authorization": f"Bearer {SECRET}"}, timeout=5
        )
        assert full.json()["last_run"]["error"] == leak
        assert srv.trigger.health()["calls"]["refused"] == 1  # the wrong bearer token


@pytest.mark.parametrize(
    "path", [f"/webhook/{SECRET}", f"/some/proxy/prefix/webhook/{SECRET}", f"/x/WEBHOOK/{SECRET}"]
)
def test_no_part_of_the_secret_is_logged_whatever_the_prefix(
    server: WebhookServer, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    httpx.post(f"{server.url}{path}/more?triggerId=t", timeout=5)
    _raw(server, f"GET {path} HTTP/1.1\r\nNoColon\r\n\r\n".encode())  # a 400 is logged too
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("numerai_autopilot")]
    assert sum("webhook/***" in m.lower() for m in lines) == 2
    for m in lines:
        assert SECRET[:8] not in m and SECRET[-8:] not in m


def test_a_slow_client_is_cut_at_the_total_deadline(server: WebhookServer) -> None:
    head = b"POST /webhook/" + SECRET.encode() + b" HTTP/1.1\r\nX-Slow: " + b"a" * 40
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        start = time.monotonic()
        answer = b""
        for byte in head:  # one byte each 0.1 s: each read is quick, the whole is not
            try:
                s.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)  # the slow client's pace, not a synchronisation
            if time.monotonic() - start > 5:
                break
        s.settimeout(5)
        while chunk := s.recv(65536):
            answer += chunk
        elapsed = time.monotonic() - start
    assert _status(answer) == 408
    assert 1.4 <= elapsed < 3.0, elapsed


def _half_open(srv: WebhookServer, data: bytes) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    s.sendall(data)
    return s


def test_past_the_cap_the_oldest_slow_head_is_cut_and_a_valid_call_is_served(
    job: Recorder,
) -> None:
    with WebhookServer(WebhookTrigger(SECRET, job), max_connections=16) as srv:
        slow = [_half_open(srv, b"POST /webhook/x HTTP/1.1\r\nX-A") for _ in range(40)]
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and (
                srv._server.connections() != (8, 8) or srv._server.evicted < 40 - 8
            ):
                time.sleep(0.005)  # the server accepting and cutting (bounded poll)
            assert srv._server.connections() == (8, 8)  # 16 less 8 spare; the rest were cut
            assert srv._server.evicted == 40 - 8
            start = time.monotonic()
            answer = httpx.post(f"{srv.url}/webhook/{SECRET}?triggerId=fast", timeout=2)
            assert answer.status_code == 202 and answer.json() == {"status": "started"}
            assert job.started.wait(1.0) and time.monotonic() - start < 1.0
            assert job.ids == ["fast"]
            # The first connections were the ones cut, without an answer; the last still wait.
            slow[0].settimeout(2)
            assert slow[0].recv(100) == b""
            assert srv._server.connections()[0] <= 16
        finally:
            for s in slow:
                s.close()


def test_when_every_slot_is_past_its_head_a_new_call_gets_503(job: Recorder) -> None:
    with WebhookServer(WebhookTrigger(SECRET, job), max_connections=16) as srv:
        held: list[socket.socket] = []
        try:
            for i in range(16):  # heads complete, bodies never come: these are not cut
                held.append(_half_open(srv, POST + b"Content-Length: 10\r\n\r\n12345"))
                deadline = time.monotonic() + 5
                while srv._server.connections() != (i + 1, 0) and time.monotonic() < deadline:
                    time.sleep(0.005)  # the server's thread reading that head (bounded poll)
            assert srv._server.connections() == (16, 0)
            start = time.monotonic()
            answer = _raw(srv, b"GET /health HTTP/1.1\r\n\r\n")
            assert _status(answer) == 503 and b"Retry-After: 1" in answer
            assert time.monotonic() - start < 0.5
            assert srv._server.evicted == 0
        finally:
            for s in held:
                s.close()


def test_a_client_that_resets_is_not_an_error(
    server: WebhookServer, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.sendall(b"GET /health HTTP/1.1\r\n")
        s.close()  # RST, mid-head
    assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    _, err = capfd.readouterr()
    assert err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_bug_in_a_handler_is_one_log_line_and_a_500(
    job: Recorder, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    class Broken(WebhookTrigger):
        def trigger(self, trigger_id: str | None) -> object:  # type: ignore[override]
            raise RuntimeError("boom")

    with WebhookServer(Broken(SECRET, job)) as srv:
        answer = httpx.post(f"{srv.url}/webhook/{SECRET}", timeout=5)
        assert answer.status_code == 500 and answer.json() == {"error": "internal error"}
        assert httpx.get(f"{srv.url}/health", timeout=5).status_code == 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == ["webhook request failed: RuntimeError: boom"]
    assert "Traceback" not in capfd.readouterr().err
