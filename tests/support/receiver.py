"""A loopback HTTP server recording every request (the apprise ``json://`` target and the
healthcheck URL of a run), and the :class:`Result` of a run with what it received."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HC_TOKEN = "hc-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
NOTIFY_TOKEN = "tok-9a8b7c6d5e4f"


class Receiver:
    """A loopback HTTP server recording every request: the apprise target and healthcheck."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[str, str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
                outer.requests.append((self.command, self.path, body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def notify_url(self) -> str:
        return f"json://127.0.0.1:{self.port}/notify/{NOTIFY_TOKEN}"

    @property
    def healthcheck_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hc/{HC_TOKEN}"


@dataclass
class Result:
    code: int
    out: str
    report: dict[str, Any] | None = None
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    """What the alert receiver got during this run."""

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(b) for _m, p, b in self.requests if p.startswith("/notify/")]

    def pings(self) -> list[str]:
        """Healthcheck pings in order: 'start', 'success' or 'fail'."""
        out = []
        for _m, p, _b in self.requests:
            if p.startswith("/hc/"):
                tail = p.removeprefix(f"/hc/{HC_TOKEN}")
                out.append({"/start": "start", "/fail": "fail", "": "success"}.get(tail, tail))
        return out

    def outcomes(self) -> dict[str, dict[str, Any]]:
        return {o["name"]: o for o in (self.report or {}).get("outcomes", [])}
