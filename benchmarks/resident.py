"""The resident case: one long-lived ``serve`` process per models dir, whose round runs are
triggered by its webhook, measured over each run's window.

The process is started (untimed), given one warm-up round (untimed: the round before, which a
resident deployment has always had), then each measured round is: open the round, POST the
webhook, wait until the sandbox has every pending upload and ``/health`` says the run ended.
CPU is the serve tree's (``tree_cpu``) over the window, memory its summed PSS/RSS peak, polled.
Whether this build has a warm resident mode (libraries and compiled models kept loaded between
rounds) is read from ``serve --help`` and recorded; the figures are measured either way.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from .measure import Measure, measured, reap_orphans, tree_cpu
from .poller import Poller

HERE = Path(__file__).resolve().parent
SECRET = "bench-resident-webhook-secret-0123456789"  # noqa: S105  (a local test server)
_POLL = 0.05
_HEALTH_EVERY = 20  # polls: /health once a second while the uploads come in
_WARM_WORDS = ("resident", "warm")


def warm_mode_available(console_script: str) -> bool:
    """Whether ``serve`` of this build documents a warm (resident) mode in its help."""
    done = subprocess.run(
        [console_script, "serve", "--help"], capture_output=True, text=True, check=False
    )
    text = done.stdout.lower()
    return any(w in text for w in _WARM_WORDS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Resident:
    """A running ``serve`` (benchmarks/resident_serve.py) and how to trigger and time a run."""

    def __init__(
        self,
        env: Mapping[str, str],
        log: Path,
        timeout: float = 900.0,
        args: Sequence[str] = (),
    ) -> None:
        self.port = _free_port()
        self.timeout = timeout
        self.url = f"http://127.0.0.1:{self.port}"
        self._out: BinaryIO = log.open("ab")
        argv = [sys.executable, str(HERE / "resident_serve.py"), "--port", str(self.port), *args]
        self.proc = subprocess.Popen(
            argv,
            env=dict(env) | {"NUMERAI_WEBHOOK_SECRET": SECRET},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self._wait_for(lambda: self.health() is not None, 60.0, "serve did not start")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def health(self) -> dict[str, Any] | None:
        try:
            r = httpx.get(f"{self.url}/health", timeout=2)
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        doc: dict[str, Any] = r.json()
        return doc

    def _trigger(self) -> str:
        r = httpx.post(f"{self.url}/webhook/{SECRET}", timeout=10)
        r.raise_for_status()
        return str(r.json()["status"])

    def run_round(
        self, uploads: Callable[[], int], expected: int, every: float | None = None
    ) -> tuple[Measure, dict[str, Any]]:
        """Trigger one run and wait for its end: ``uploads()`` reaching ``expected`` (the
        sandbox, read in this process: nothing asked of the server), then ``/health``.
        ``every``: a dense memory poller (the untimed memory round)."""
        before = self.health() or {}
        started_before = int((before.get("calls") or {}).get("started", 0))
        poller = Poller(root=self.pid, every=every)
        cpu0 = tree_cpu(self.pid)
        t0 = time.perf_counter()
        poller.start()
        try:
            status = self._trigger()
            if status != "started":
                raise RuntimeError(f"serve did not start a run: {status}")

            def ended() -> bool:
                h = self.health() or {}
                calls = int((h.get("calls") or {}).get("started", 0))
                last = h.get("last_run") or {}
                return (
                    calls > started_before and not h.get("running") and bool(last.get("finished"))
                )

            polls = iter(range(10**9))

            def uploaded_or_over() -> bool:
                # The sandbox every poll; the server once a second (a run that failed a model
                # never uploads everything, and must not be waited for until the timeout).
                return uploads() >= expected or (next(polls) % _HEALTH_EVERY == 0 and ended())

            self._wait_for(uploaded_or_over, self.timeout, "uploads missing")
            self._wait_for(ended, self.timeout, "the run did not end")
            wall = time.perf_counter() - t0
            cpu = tree_cpu(self.pid) - cpu0
        finally:
            poller.stop.set()
            poller.join()
        last = (self.health() or {}).get("last_run") or {}
        code = last.get("exit_code")
        return measured(poller, wall, cpu, [int(code or 0)]), last

    def _wait_for(self, ok: Callable[[], bool], seconds: float, what: str) -> None:
        end = time.monotonic() + seconds
        while not ok():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{what}: serve exited with {self.proc.returncode}")
            if time.monotonic() > end:
                raise TimeoutError(f"{what} after {seconds:.0f} s")
            time.sleep(_POLL)

    def stop(self) -> float:
        """Stop the server (SIGTERM, then SIGKILL); its whole CPU time, for the idle cost."""
        cpu = tree_cpu(self.pid)
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # Its fork server outlives it a moment and is adopted here: collected now, so that
        # its CPU time does not land in the next case's measure.
        reap_orphans()
        self._out.close()
        return cpu
