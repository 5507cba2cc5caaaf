"""`serve` as a process under load on loopback: hundreds of slow clients, file descriptors run
out. Bounded in clients, connections and time; each test stops by itself."""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import socket
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]
import pytest

from numerai_autopilot.sandbox import Sandbox
from support.rig import env_for
from support.workshop import Workshop

SECRET = secrets.token_urlsafe(32)
CLIENTS = 400
ATTACK_S = 12.0  # longer than the 10 s request deadline
MAX_CONNECTS = 20_000
CAP = 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, "serve exited"
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # waiting for a process to start listening (bounded)
    raise AssertionError(f"serve did not answer within {timeout} s")


class SlowClients:
    """``n`` connections, each sending its request head one byte per second; a connection the
    server closes is opened again at the next tick (at most ``MAX_CONNECTS`` in all)."""

    HEAD = b"POST /webhook/not-the-secret HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 200

    def __init__(self, port: int, n: int) -> None:
        self.port, self.n = port, n
        self.sel = selectors.DefaultSelector()
        self.socks: dict[socket.socket, int] = {}  # socket -> bytes sent
        self.connects = 0

    def _open(self) -> None:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        self.sel.register(s, selectors.EVENT_READ)
        self.socks[s] = 0
        self.connects += 1

    def _drop(self, s: socket.socket) -> None:
        self.sel.unregister(s)
        del self.socks[s]
        s.close()

    def tick(self) -> None:
        for key, _ in self.sel.select(timeout=0):  # answered or closed by the server
            self._drop(key.fileobj)  # type: ignore[arg-type]
        for s, sent in list(self.socks.items()):
            try:
                s.send(self.HEAD[sent % len(self.HEAD) : sent % len(self.HEAD) + 1])
                self.socks[s] = sent + 1
            except OSError:  # not connected yet (backlog full) or reset: try again later
                if sent == 0 and self.connects < MAX_CONNECTS:
                    continue
                self._drop(s)
        while len(self.socks) < self.n and self.connects < MAX_CONNECTS:
            self._open()

    def close(self) -> None:
        for s in list(self.socks):
            self._drop(s)


@pytest.mark.slow  # ~30 s: 12 s of attack, then the run it started, on a loaded machine
def test_serve_under_400_slow_clients_still_starts_a_run_at_once(
    rsb: Sandbox, tmp_path: Path
) -> None:
    w = Workshop(rsb, tmp_path / "models", tmp_path / "train-cache")
    w.function("ld_model")
    w.write_toml()
    w.close()
    env = env_for(rsb, tmp_path) | {"NUMERAI_WEBHOOK_SECRET": SECRET}
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "numerai_autopilot", "serve", "-v", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    clients = SlowClients(port, CLIENTS)
    try:
        _wait_healthy(base, proc, 30)
        # Behind a proxy that keeps its prefix: a 404, logged without any of the secret.
        assert httpx.post(f"{base}/hooks/webhook/{SECRET}/x", timeout=5).status_code == 404
        ps = psutil.Process(proc.pid)
        threads0, fds0 = ps.num_threads(), ps.num_fds()
        peak_threads = peak_fds = 0
        sent_at: datetime | None = None
        answer: httpx.Response | None = None
        answered_in = 0.0
        start = time.monotonic()
        next_tick = start
        while (now := time.monotonic()) - start < ATTACK_S:
            if now >= next_tick:
                clients.tick()
                next_tick = now + 1.0
            peak_threads = max(peak_threads, ps.num_threads())
            peak_fds = max(peak_fds, ps.num_fds())
            if answer is None and now - start > 5:  # mid-attack, every slot long taken
                sent_at = datetime.now(UTC)
                t0 = time.monotonic()
                answer = httpx.post(f"{base}/webhook/{SECRET}?triggerId=under-load", timeout=5)
                answered_in = time.monotonic() - t0
            time.sleep(0.05)  # the sampling pace of the attack loop, not a synchronisation
        clients.close()
        assert answer is not None and answer.status_code == 202, answer
        assert answer.json() == {"status": "started"}
        assert answered_in < 1.0, answered_in
        assert clients.connects > CLIENTS  # the server did cut slow clients

        end = time.monotonic() + 90
        while httpx.get(f"{base}/health", timeout=5).json()["running"]:
            assert time.monotonic() < end, "the run did not finish in 90 s"
            time.sleep(0.2)  # waiting for the run (bounded)
        print(f"run finished {time.monotonic() - start:.1f} s after the attack began")
        (sub,) = rsb.submissions("ld_model")
        assert sub["trigger_id"] == "under-load"
    finally:
        clients.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    print(  # the figures, for `pytest -s`
        f"threads {threads0}->{peak_threads}, fds {fds0}->{peak_fds}, "
        f"connects {clients.connects}, trigger answered in {answered_in * 1000:.0f} ms"
    )
    # The handler threads and their sockets stay under the cap; the run adds a few of its own.
    assert peak_threads <= threads0 + CAP + 8, (threads0, peak_threads)
    assert peak_fds <= fds0 + CAP + 32, (fds0, peak_fds)
    lines = log_path.read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line is JSON
    started = [r for r in records if r["msg"].startswith("webhook call: run started")]
    assert len(started) == 1 and sent_at is not None
    lag = (datetime.fromisoformat(started[0]["ts"]) - sent_at).total_seconds()
    assert lag < 1.0, lag
    assert not [r for r in records if r["level"] == "error"]
    text = log_path.read_text()
    assert "/hooks/webhook/***" in text  # `serve -v` logged that call, masked
    for piece in (SECRET, SECRET[:10], SECRET[-10:], SECRET[10:20]):
        assert piece not in text


_EMFILE_SERVER = textwrap.dedent(
    """
    import os, resource, sys, threading
    from numerai_autopilot.cli.logs import configure
    from numerai_autopilot.schedule import WebhookServer, WebhookTrigger
    from numerai_autopilot.schedule._job import JobResult

    configure("json", [])
    trigger = WebhookTrigger("e" * 40, lambda tid, stop: JobResult())
    srv = WebhookServer(trigger, deadline=2.0).start()
    open_now = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 4, resource.getrlimit(
        resource.RLIMIT_NOFILE)[1]))
    print(srv.port, flush=True)
    sys.stdin.read()  # until the test closes our stdin
    srv.stop()
    """
)


def test_out_of_file_descriptors_the_server_backs_off_instead_of_spinning(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "emfile.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", _EMFILE_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
        )
    assert proc.stdin is not None and proc.stdout is not None
    held: list[socket.socket] = []
    try:
        port = int(proc.stdout.readline())
        for _ in range(20):  # more than the 4 descriptors left: the rest wait in the backlog
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            held[-1].sendall(b"GET /health HTTP/1.1\r\n")
        time.sleep(0.5)  # let the accept loop hit EMFILE (the measure below is what counts)
        ps = psutil.Process(proc.pid)
        before = ps.cpu_times()
        time.sleep(1.5)  # a window to measure CPU in
        after = ps.cpu_times()
        used = (after.user - before.user) + (after.system - before.system)
        assert used < 0.4, f"{used:.2f} s of CPU in 1.5 s: the accept loop spins"
        for s in held:
            s.close()
        held.clear()
        # Descriptors come back when the held requests hit their deadline: served again.
        end = time.monotonic() + 10
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < end, "not served again after descriptors came back"
            time.sleep(0.1)  # waiting for the deadline to free descriptors (bounded)
    finally:
        for s in held:
            s.close()
        proc.stdin.close()
        proc.wait(timeout=15)
    records = [json.loads(line) for line in log_path.read_text().splitlines()]
    backoffs = [r for r in records if "cannot accept" in r["msg"]]
    assert backoffs and len(backoffs) < 20  # logged once per burst, not per failed accept
