"""The sandbox's HTTP layer: GraphQL at ``POST /``, files, uploads, faults and the admin API.

Built on the stdlib server because faults need the socket itself: a dropped connection, a body
cut short after a full Content-Length, a throttled stream. Typed against :class:`App` (the few
things it needs, ports.py), it never imports the :class:`~.sandbox.Sandbox` it serves.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ._s3echo import signature_echo
from .faults import DOWNLOAD, GRAPHQL, Fault
from .ports import App
from .wire import drifted, parse_graphql, parse_range, rejected_by_fault, request_sort

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, Handler)
        self.app = app


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # --- plumbing --------------------------------------------------------------------------------
    @property
    def app(self) -> App:
        return self.server.app

    _closing: Fault | None = None

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(
        self,
        code: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        *,
        head: bool = False,
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.write_body(body)

    def send_json(self, code: int, obj: Any) -> None:
        self.send_bytes(code, json.dumps(obj, default=str).encode())

    def write_body(self, body: bytes | memoryview) -> None:
        """Write ``body``, throttled to the bandwidth cap when one is set."""
        view = memoryview(body)
        start, sent = time.monotonic(), 0
        while sent < len(view):
            cap = self.app.bandwidth
            size = CHUNK if not cap else max(1, min(CHUNK, cap // 20))
            chunk = view[sent : sent + size]
            self.wfile.write(chunk)
            sent += len(chunk)
            self.app.tally.served(len(chunk))
            if cap:
                ahead = sent / cap - (time.monotonic() - start)
                if ahead > 0 and self.app.stopping.wait(ahead):
                    return

    def drop(self) -> None:
        """Close the connection without (the rest of) a response."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            logger.debug("socket already gone while dropping")

    # --- dispatch --------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path = url.path
        query = dict(parse_qsl(url.query))
        body = self._body() if method in ("POST", "PUT") else b""
        if path.startswith("/_sandbox/") or path == "/_sandbox":
            self.send_json(*self.app.admin(method, path, query, body))
            return
        sort = request_sort(method, path)
        if sort is None:
            self.send_json(404, {"error": f"no route for {method} {path}"})
            return
        request, document, ops = parse_graphql(body) if sort == GRAPHQL else (None, None, [])
        method_path = f"{method} {unquote(path)}"
        self.app.tally.request(method_path, ops)
        faults = {f.kind: f for f in self.app.faults.take(sort, ops, method_path)}
        self._closing = faults.get("close_round")
        if self._pre_faults(faults):
            self._close_pending()
            return
        if sort == GRAPHQL:
            self._graphql(request, document, faults)
        elif sort == DOWNLOAD:
            self._download(method, path, query, faults)
        else:
            self._upload(path, query, body, faults)
        self._close_pending()

    def _close_pending(self) -> None:
        """Apply a pending ``close_round`` fault once. It runs when the answer is ready, just
        before its status line goes out (see send_response): a client that has the answer in
        hand then always sees the round closed, never a race with the server thread."""
        closing, self._closing = self._closing, None
        if closing is not None:
            self.app.close_round(closing.params.get("tournament"))

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header follows the sandbox's clock, as Numerai's follows its rounds: a client
        # on the same (fake) clock then sees no skew.
        when = self.app.clock.now().timestamp() if timestamp is None else timestamp
        return formatdate(when, usegmt=True)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._close_pending()
        super().send_response(code, message)

    def _pre_faults(self, faults: dict[str, Fault]) -> bool:
        """Apply the faults that act before the request is handled; True when answered."""
        if "hang" in faults:
            self.app.stopping.wait(float(faults["hang"].params.get("seconds", 30)))
            self.drop()
            return True
        if "drop" in faults:
            self.drop()
            return True
        if "slow" in faults:
            self.app.stopping.wait(float(faults["slow"].params.get("seconds", 1)))
        if "status" in faults:
            params = faults["status"].params
            code = int(params.get("code", 503))
            headers = {}
            if params.get("retry_after") is not None:
                headers["Retry-After"] = str(params["retry_after"])
            text = f"{code} injected by the sandbox".encode()
            self.send_bytes(code, text, "text/plain", headers)
            return True
        if "non_json" in faults:
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_bytes(int(faults["non_json"].params.get("code", 200)), page, "text/html")
            return True
        return False

    # --- GraphQL ---------------------------------------------------------------------------------
    def _graphql(self, request: Any, document: Any, faults: dict[str, Fault]) -> None:
        if document is None:
            self.send_json(400, {"errors": [{"message": "could not parse the GraphQL request"}]})
            return
        rejected = rejected_by_fault(self.app.schema, document, faults.get("unknown_field"))
        if rejected is not None:
            self.send_json(*rejected)
            return
        variables = request.get("variables") if isinstance(request, dict) else None
        caller = self.app.core.caller(self.headers.get("Authorization"))
        caller.naive_times = "naive_datetimes" in faults
        result = self.app.graphql(document, variables, caller)
        result = drifted(result, faults.get("missing_fields"))
        if "after_commit" in faults:
            code = int(faults["after_commit"].params.get("code", 500))
            self.send_bytes(code, b"Internal Server Error", "text/plain")
            return
        self.send_json(200, result)

    # --- files -----------------------------------------------------------------------------------
    def _signed(self, method: str, path: str, query: dict[str, str]) -> bool:
        reason = self.app.core.signer.check(
            method, path, query, self.app.core.clock.now().timestamp()
        )
        if reason is not None:
            self.send_bytes(403, f"<Error>{reason}</Error>".encode(), "application/xml")
            return False
        return True

    def _download(
        self, method: str, path: str, query: dict[str, str], faults: dict[str, Fault]
    ) -> None:
        if not self._signed(method, path, query):
            return
        located = self.app.locate(unquote(path))
        if located is None:
            self.send_bytes(404, b"<Error>NoSuchKey</Error>", "application/xml")
            return
        file_path, name = located
        self.serve_file(file_path, name, head=method == "HEAD", faults=faults)

    def serve_file(
        self, file_path: Path, name: str, *, head: bool, faults: dict[str, Fault]
    ) -> None:
        data = file_path.read_bytes()
        size = len(data)
        start, end, code = 0, size - 1, 200
        headers = {"Accept-Ranges": "bytes", "ETag": self.app.etag(file_path, data)}
        wanted = self.headers.get("Range")
        if wanted and "ignore_range" not in faults:
            parsed = parse_range(wanted, size)
            if parsed is None:
                headers["Content-Range"] = f"bytes */{size}"
                self.send_bytes(416, b"", "application/octet-stream", headers)
                return
            start, end = parsed
            code = 206
            self.app.tally.partial()
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        body = memoryview(data)[start : end + 1]
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if head:
            return
        cut = faults.get("truncate")
        if cut is not None:
            keep = int(cut.params.get("bytes", len(body) // 2))
            self.write_body(body[: max(0, min(keep, len(body) - 1))])
            self.drop()
            return
        self.write_body(body)
        if end == size - 1:
            self.app.tally.downloaded(name)

    def _upload(
        self, path: str, query: dict[str, str], body: bytes, faults: dict[str, Fault]
    ) -> None:
        if not self._signed("PUT", path, query):
            return
        failing = faults.get("upload_fail")
        if failing is not None:
            code = int(failing.params.get("code", 500))
            body = b"<Error>InternalError</Error>"
            if failing.params.get("echo_signature"):  # S3's 403 body, credentials and all
                base = f"http://{self.headers.get('Host', '127.0.0.1')}"
                body = signature_echo("PUT", path, query, base)
            self.send_bytes(code, body, "application/xml")
            return
        if not self.app.core.receive_upload(unquote(path).removeprefix("/uploads/"), body):
            self.send_bytes(404, b"<Error>NoSuchUpload</Error>", "application/xml")
            return
        self.app.tally.uploaded()
        self.send_bytes(200, b"", "application/xml")
