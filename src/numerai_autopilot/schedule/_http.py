"""The HTTP face of the webhook trigger (stdlib ``http.server``).

Routes:

- ``POST /webhook/<secret>`` or ``POST /webhook`` with ``Authorization: Bearer <secret>``: start
  a run (202 ``started``) or fold the call into the running one (202 ``coalesced``). The trigger
  id is read from the query (``triggerId`` or ``trigger_id``) or a JSON / form body.
- ``GET /health``: 200 with the last run's summary (no secret, no trigger id).
- anything else, or a wrong secret: 404 (401 for a wrong bearer token); an address with too
  many refused calls gets 429 with ``Retry-After``.

Request lines are never logged as received: the path holds the secret.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError
from .webhook import WebhookTrigger, valid_trigger_id

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PREFIX = "/webhook"
_SECRET_IN_PATH = re.compile(re.escape(PREFIX) + r"/[^\s?'\"]*")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    trigger: WebhookTrigger


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 10  # a client that sends nothing for this long is dropped (slow-loris)
    server_version = "numerai-autopilot"
    sys_version = ""

    # -- routes ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/health":
            self._send(200, self.server.trigger.health())
        elif self._authenticated(path) is True:
            self._send(405, {"error": "use POST"}, {"Allow": "POST"})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        if self._authenticated(parts.path) is not True:
            return
        ok, trigger_id = self._trigger_id(parts.query)
        if not ok:
            return
        outcome = self.server.trigger.trigger(trigger_id or None)
        self._send(202, {"status": outcome})

    def do_PUT(self) -> None:
        if self._authenticated(urlsplit(self.path).path) is True:
            self._send(405, {"error": "use POST"}, {"Allow": "POST"})

    do_DELETE = do_PATCH = do_HEAD = do_PUT

    # -- helpers ---------------------------------------------------------------------------

    def _authenticated(self, path: str) -> bool | None:
        """True for a call with the secret; otherwise answer 404/401/429 and return None."""
        trigger = self.server.trigger
        presented: str | None = None
        bearer = False
        if path.startswith(PREFIX + "/"):
            presented = path[len(PREFIX) + 1 :]
        elif path == PREFIX:
            auth = self.headers.get("Authorization", "")
            scheme, _, token = auth.partition(" ")
            bearer = True
            presented = token.strip() if scheme.lower() == "bearer" else None
        if presented is not None and trigger.authenticate(presented):
            return True
        retry_after = trigger.refused(self.client_address[0])
        if retry_after is not None:
            self._send(
                429, {"error": "too many refused calls"}, {"Retry-After": f"{retry_after:.0f}"}
            )
        elif bearer:
            self._send(401, {"error": "unauthorized"}, {"WWW-Authenticate": "Bearer"})
        else:
            self._send(404, {"error": "not found"})
        return None

    def _trigger_id(self, query: str) -> tuple[bool, str]:
        """(True, the caller's trigger id or ''), or (False, '') after answering 400/413."""
        values = parse_qs(query)
        found = (values.get("triggerId") or values.get("trigger_id") or [""])[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(413, {"error": f"body larger than {MAX_BODY} bytes"})
            return False, ""
        body = self.rfile.read(length) if length > 0 else b""
        if not found and body:
            found = _from_body(body, self.headers.get("Content-Type", ""))
        if found and not valid_trigger_id(found):
            self._send(400, {"error": "triggerId must be 1-200 of A-Z a-z 0-9 . _ : -"})
            return False, ""
        return True, found

    def _send(self, code: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Never the raw path: it holds the secret.
        path = urlsplit(self.path).path
        shown = PREFIX + "/***" if path.startswith(PREFIX + "/") else path[:64]
        log.debug("%s %s %s from %s", self.command, shown, code, self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib's messages may quote the request line: mask the secret in it.
        log.debug("http: %s", _SECRET_IN_PATH.sub(PREFIX + "/***", format % args))


def _from_body(body: bytes, content_type: str) -> str:
    text = body.decode("utf-8", errors="replace")
    if "json" in content_type or text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError:
            return ""
        if isinstance(doc, dict):
            value = doc.get("triggerId", doc.get("trigger_id"))
            return str(value) if isinstance(value, str | int) else ""
        return ""
    values = parse_qs(text)
    return (values.get("triggerId") or values.get("trigger_id") or [""])[0]


class WebhookServer:
    """``serve``'s HTTP server in a background thread: ``start()``, ``url``, ``stop()``."""

    def __init__(self, trigger: WebhookTrigger, host: str = "127.0.0.1", port: int = 0) -> None:
        self.trigger = trigger
        try:
            self._server = _Server((host, port), _Handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror} (choose another --host/--port)"
            ) from exc
        self._server.trigger = trigger
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> WebhookServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="webhook-http",
            daemon=True,
        )
        self._thread.start()
        log.info("webhook trigger listening on %s (POST %s/<secret>)", self.url, PREFIX)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting calls, stop retrying and wait (bounded) for a running attempt."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self.trigger.stop(timeout)

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
