"""The HTTP face of the webhook trigger (stdlib ``http.server``, hardened in ``_conn.py``).

Routes:

- ``POST /webhook/<secret>`` or ``POST /webhook`` with ``Authorization: Bearer <secret>``: start
  a run (202 ``started``) or fold the call into the running one (202 ``coalesced``). The trigger
  id is read from the query (``triggerId`` or ``trigger_id``) or a JSON / form body.
- ``GET`` or ``HEAD /health``: 200 with the last run's summary (no secret, no trigger id; an
  error only as its class unless the call carries ``Authorization: Bearer <secret>``). Never
  counted as a refused call.
- ``GET`` or ``HEAD /`` with ``Authorization: Bearer <secret>``: the report page (``report
  --html``'s, built per call); 401 without the secret (a refused call), 503 if it cannot be built.
- anything else, or a wrong secret: 404 (401 for a wrong bearer token); an address with too
  many refused calls gets 429 with ``Retry-After``.

One request per connection, its head read strictly (``_parse.py``): a malformed request line,
header or ``Content-Length`` gets 400 (414 for a line too long, 431 for too many or too long
headers, 505 for HTTP/2+), never a traceback. Request lines are never logged as received:
the path holds the secret.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import AutopilotError, ConfigError
from ..glance import CSP
from ._conn import DEADLINE, GONE, MAX_CONNECTIONS, BoundedServer, DeadlineReader
from ._parse import BadRequest, read_head, trigger_from_body
from .webhook import WebhookTrigger, valid_trigger_id

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
PREFIX = "/webhook"
# The whole path segment after any "webhook/" (a proxy may add a prefix before it).
_SECRET_IN_PATH = re.compile(r"(webhook/)[^/?#\s'\"]*", re.IGNORECASE)
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")
PageFn = Callable[[], str]  # builds the page served at ``/`` (AutopilotError when it cannot)
# The page is HTML made from user and API data: no script may run, nothing may be framed.
_PAGE_HEADERS = {
    "Content-Security-Policy": CSP + "; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def mask_path(path: str) -> str:
    """``path`` safe to log: the segment after ``webhook/`` masked, then cut to 80 characters."""
    return _SECRET_IN_PATH.sub(r"\1***", path)[:80]


class _Server(BoundedServer):
    trigger: WebhookTrigger
    page: PageFn | None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "numerai-autopilot"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        deadline = self.server.deadline_for(self.connection)
        self.rfile = io.BufferedReader(DeadlineReader(self.connection, deadline))

    def handle(self) -> None:
        """One request, then close. A client that leaves is not an error; a bug is one line."""
        self.close_connection = True
        self.command, self.path, self.request_version = "", "", "HTTP/1.0"
        self.requestline = ""
        try:
            head = read_head(self.rfile)
            if head is not None:
                self.server.head_done(self.connection)
                self._request_line(head.command, head.path, head.version)
                self.headers = head.headers
                self._route()
        except BadRequest as bad:
            if bad.line is not None:
                self._request_line(*bad.line)
            self._fail(bad.code, bad.reason)
        except TimeoutError:
            self._fail(408, "request not received in time")
        except GONE:
            pass
        except Exception as exc:  # a bug: answer 500, log one line, keep serving
            log.error("webhook request failed: %s: %s", type(exc).__name__, exc)
            log.debug("webhook request failed", exc_info=True)
            self._fail(500, "internal error")

    def _request_line(self, command: str, path: str, version: str) -> None:
        self.command, self.path, self.request_version = command, path, version
        self.requestline = f"{command} {mask_path(path)} {version}"

    # -- routes ----------------------------------------------------------------------------

    def _route(self) -> None:
        if self.command not in _METHODS:
            raise BadRequest(501, "method not supported")
        parts = urlsplit(self.path)
        if parts.path == "/health" and self.command in ("GET", "HEAD"):
            self._send(200, self.server.trigger.health(full=self._health_authorized()))
        elif parts.path == "/" and self.command in ("GET", "HEAD") and self.server.page:
            if self._authenticated(parts.path, bearer_only=True) is True:
                self._page(self.server.page)
        elif self.command != "POST":
            if self._authenticated(parts.path) is True:
                self._send(405, {"error": "use POST"}, {"Allow": "POST"})
        elif self._authenticated(parts.path) is True:
            trigger_id = self._trigger_id(parts.query)
            self._send(202, {"status": self._start(trigger_id or None)})

    def _start(self, trigger_id: str | None) -> str:
        # The one place a webhook call starts (or joins) a run.
        return self.server.trigger.trigger(trigger_id)

    def _health_authorized(self) -> bool:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        if self.server.trigger.authenticate(token.strip()):
            return True
        self.server.trigger.refused(self.client_address[0])
        return False

    def _page(self, page: PageFn) -> None:
        try:
            html = page()
        except AutopilotError as exc:  # the caller has the secret: the reason verbatim
            self._send(503, {"error": f"the report cannot be built: {exc}"})
        else:
            self._send_body(200, html.encode("utf-8"), "text/html; charset=utf-8", _PAGE_HEADERS)

    def _authenticated(self, path: str, *, bearer_only: bool = False) -> bool | None:
        """True for a call with the secret (in the path after ``/webhook/``, or as a Bearer
        token: the only way with ``bearer_only``); else answer 404/401/429 and return None."""
        trigger = self.server.trigger
        presented: str | None = None
        bearer = False
        if path.startswith(PREFIX + "/") and not bearer_only:
            presented = path[len(PREFIX) + 1 :]
        elif path == PREFIX or bearer_only:
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

    def _trigger_id(self, query: str) -> str:
        """The caller's trigger id or ''; raises _BadRequest for a bad id or body."""
        values = parse_qs(query)
        found = (values.get("triggerId") or values.get("trigger_id") or [""])[0]
        body = self._body()
        if not found and body:
            found = trigger_from_body(body, self.headers.get("Content-Type", ""))
        if found and not valid_trigger_id(found):
            raise BadRequest(400, "triggerId must be 1-200 of A-Z a-z 0-9 . _ : -")
        return found

    def _body(self) -> bytes:
        """The body, read only when ``Content-Length`` is one plain number up to MAX_BODY."""
        if "Transfer-Encoding" in self.headers:
            raise BadRequest(411, "send a Content-Length, not Transfer-Encoding")
        values = {v.strip() for v in self.headers.get_all("Content-Length") or []}
        if not values:
            return b""
        (value,) = values if len(values) == 1 else ("",)
        if not value.isascii() or not value.isdigit():
            raise BadRequest(400, "Content-Length must be one non-negative integer")
        if len(value) > 12 or int(value) > MAX_BODY:
            raise BadRequest(413, f"body larger than {MAX_BODY} bytes")
        body = self.rfile.read(int(value))
        if len(body) < int(value):
            raise ConnectionAbortedError("client left mid-body")
        return body

    def _fail(self, code: int, reason: str) -> None:
        """Answer an error if the client is still there, then read what it still sends for a
        moment (bounded), so that closing does not reset the connection before it reads."""
        with contextlib.suppress(OSError):
            self._send(code, {"error": reason})
            self.connection.shutdown(socket.SHUT_WR)
            end = time.monotonic() + 0.5
            while (left := end - time.monotonic()) > 0:
                self.connection.settimeout(left)
                if not self.connection.recv(65536):
                    break

    def _send(self, code: int, doc: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send_body(code, json.dumps(doc).encode(), "application/json", headers)

    def _send_body(
        self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.connection.settimeout(2.0)  # a small answer: a client that does not read is cut
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Never the raw path: it holds the secret.
        shown = mask_path(urlsplit(self.path).path) if self.path else "-"
        log.debug("%s %s %s from %s", self.command or "-", shown, code, self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        # The stdlib's messages may quote the request line: mask the secret in it.
        log.debug("http: %s", mask_path(format % args))


class WebhookServer:
    """``serve``'s HTTP server in a background thread: ``start()``, ``url``, ``stop()``.

    At most ``max_connections`` connections at once, each given ``deadline`` seconds in all
    to send its request (see ``_conn.py``). ``page``: what ``GET /`` serves (none: 404)."""

    def __init__(
        self,
        trigger: WebhookTrigger,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_connections: int = MAX_CONNECTIONS,
        deadline: float = DEADLINE,
        page: PageFn | None = None,
    ) -> None:
        self.trigger = trigger
        try:
            self._server = _Server((host, port), _Handler, max_connections, deadline)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror} (choose another --host/--port)"
            ) from exc
        self._server.trigger = trigger
        self._server.page = page
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
        self._server.closing()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
        self.trigger.stop(timeout)

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
