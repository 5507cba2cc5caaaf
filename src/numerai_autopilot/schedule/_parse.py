"""The webhook server's strict reading of a request head (one request per connection).

A request line is ``METHOD /path HTTP/1.x`` in printable ASCII, at most 8 KiB; at most 64
header lines of 8 KiB, each ``name: value`` in printable ASCII (no folding, no bare CR).
Anything else is a :class:`BadRequest` with its status: 400, 414 (line too long), 431 (too
many or too long headers), 505 (HTTP/2 and later).
"""

from __future__ import annotations

import http.client
import io
import json
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

MAX_LINE = 8 * 1024
MAX_HEADER_LINE = 8 * 1024
MAX_HEADERS = 64
_VERSION = re.compile(r"HTTP/(\d)\.(\d)")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 token (methods, header names)


class _Lines(Protocol):
    def readline(self, size: int | None = -1, /) -> bytes: ...


class BadRequest(Exception):
    """A malformed request: answer ``code`` with ``reason``, then close."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
        self.line: tuple[str, str, str] | None = None
        """The request line, when it was good and a header was not (for the log)."""


@dataclass
class Head:
    command: str
    path: str
    version: str
    headers: http.client.HTTPMessage


def read_head(rfile: _Lines) -> Head | None:
    """The request line and headers; None when the client left before sending them all."""
    line = rfile.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise BadRequest(414, "request line too long")
    if not line.endswith(b"\n"):
        return None  # closed (or cut) before a full line
    command, path, version = _parse_line(line.rstrip(b"\r\n"))
    try:
        headers = _read_headers(rfile)
    except BadRequest as bad:
        bad.line = (command, path, version)
        raise
    return None if headers is None else Head(command, path, version, headers)


def _read_headers(rfile: _Lines) -> http.client.HTTPMessage | None:
    raw: list[bytes] = []
    while True:
        h = rfile.readline(MAX_HEADER_LINE + 1)
        if len(h) > MAX_HEADER_LINE:
            raise BadRequest(431, "header line too long")
        if not h.endswith(b"\n"):
            return None
        if h in (b"\r\n", b"\n"):
            break
        if len(raw) >= MAX_HEADERS:
            raise BadRequest(431, f"more than {MAX_HEADERS} headers")
        _check_header(h.rstrip(b"\r\n"))
        raw.append(h)
    return http.client.parse_headers(io.BytesIO(b"".join(raw) + b"\r\n"))


def _parse_line(line: bytes) -> tuple[str, str, str]:
    if not line or any(b < 0x20 or b > 0x7E for b in line):
        raise BadRequest(400, "malformed request line")
    words = line.decode("ascii").split(" ")
    if len(words) != 3 or not all(words):
        raise BadRequest(400, "malformed request line")
    command, path, version = words
    match = _VERSION.fullmatch(version)
    if not match or not _TOKEN.fullmatch(command) or not path.startswith("/"):
        raise BadRequest(400, "malformed request line")
    if int(match[1]) >= 2:
        raise BadRequest(505, "HTTP/1.0 or HTTP/1.1 only")
    if int(match[1]) < 1:
        raise BadRequest(400, "HTTP/1.0 or HTTP/1.1 only")
    return command, path, version


def _check_header(line: bytes) -> None:
    if any((b < 0x20 and b != 0x09) or b > 0x7E for b in line):
        raise BadRequest(400, "malformed header")
    name, colon, _ = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name.decode("ascii")):
        raise BadRequest(400, "malformed header")


def trigger_from_body(body: bytes, content_type: str) -> str:
    """The ``triggerId`` (or ``trigger_id``) of a JSON or form body; '' when it has none."""
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
