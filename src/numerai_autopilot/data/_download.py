"""One resumable, verified HTTP download into a ``.part`` file.

numerapi's counter-example (numerai-facts.md): resumed downloads without TLS checks, the body
appended whatever the status, and no size check. Here a resume is accepted only as a 206 whose
Content-Range starts exactly where the part file ends; a 200 restarts from byte 0; the result's
size must equal the announced total.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from ..client import transport_error
from ..errors import ApiError, NotFoundError, TransientError

log = logging.getLogger(__name__)
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class UrlExpiredError(TransientError):
    """The pre-signed URL was refused: ask the API for a fresh one, then retry."""


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``(start, end, total)`` of a ``Content-Range: bytes a-b/t`` header; None if unreadable."""
    m = _CONTENT_RANGE.match((value or "").strip())
    if not m:
        return None
    total = None if m.group(3) == "*" else int(m.group(3))
    return int(m.group(1)), int(m.group(2)), total


def download_once(
    http: httpx.Client,
    url: str,
    part: Path,
    on_bytes: Callable[[int], None],
    on_start: Callable[[int, int | None], None] | None = None,
) -> None:
    """One attempt to complete ``part`` from ``url``, resuming what it already holds.
    ``on_start(bytes already there, total or None)`` once the server answered well; then
    ``on_bytes(n)`` as each chunk arrives.

    Returns when ``part`` holds the whole file (size checked against the server's total when it
    announced one). Raises TransientError when the attempt may be retried (the part keeps what
    arrived, so the retry resumes), NotFoundError/ApiError when it may not."""
    offset = part.stat().st_size if part.exists() else 0
    # identity: sizes and ranges must count the file's own bytes, not a compressed stream's.
    headers = {"Accept-Encoding": "identity"}
    etag_file = part.with_name(part.name + ".etag")
    etag = _validator(etag_file)
    if offset and not etag:
        # Without a validator a resume would stitch whatever the URL serves now onto bytes of
        # unknown origin, and the checksum is taken after: start again from zero.
        log.info("%s: no validator recorded for the partial file; restarting from 0", part)
        part.unlink()
        offset = 0
    if offset:
        headers["Range"] = f"bytes={offset}-"
        # If the file changed since the part began, the server sends all of it (200).
        headers["If-Range"] = etag
    try:
        host = urlsplit(url).netloc
        httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        # Defence in depth: the client checks the URLs it hands out (parse_url).
        raise ApiError(f"download of {part.name.removesuffix('.part')}: malformed URL") from exc
    what = f"download of {part.name.removesuffix('.part')} from {host}"
    try:
        with http.stream("GET", url, headers=headers) as resp:
            total = _check_response(resp, offset, part, what)
            new_etag = resp.headers.get("etag", "")
            if resp.status_code == 206 and etag and new_etag and new_etag != etag:
                part.unlink(missing_ok=True)
                raise TransientError(f"{what}: the file changed since the download began")
            if resp.status_code == 200 or not etag:
                etag_file.write_text(new_etag, encoding="utf-8")
            mode = "ab" if resp.status_code == 206 else "wb"
            if on_start is not None:
                on_start(offset if mode == "ab" else 0, total)
            with part.open(mode) as out:
                # Raw and unbuffered: what arrived before a failure is kept for the resume.
                for chunk in resp.iter_raw():
                    out.write(chunk)
                    on_bytes(len(chunk))
                out.flush()
                os.fsync(out.fileno())
    except httpx.HTTPError as exc:
        # What arrived is kept in the part file: a retry resumes from there.
        raise transport_error(what, host, exc) from exc
    size = part.stat().st_size if part.exists() else 0
    if total is not None and size != total:
        if size > total:
            part.unlink()  # longer than announced: nothing in it can be trusted
        raise TransientError(f"{what} incomplete: {size} of {total} bytes")


def _validator(etag_file: Path) -> str:
    """The recorded ETag if it can validate a resume (``If-Range`` needs a strong one), else
    "" (never recorded, empty, weak or unreadable)."""
    try:
        etag = etag_file.read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return ""
    return "" if etag.startswith("W/") else etag


def _check_response(resp: httpx.Response, offset: int, part: Path, what: str) -> int | None:
    """Validate status and headers; the file's total size if the server announced it."""
    status = resp.status_code
    if status == 416:
        # Our part is not a prefix the server recognises: start again.
        part.unlink(missing_ok=True)
        raise TransientError(f"{what}: range not satisfiable, restarting from 0")
    if status == 429 or status >= 500:
        raise TransientError(f"{what}: HTTP {status}")
    if status in (401, 403):
        raise UrlExpiredError(f"{what}: HTTP {status}, the download URL expired")
    if status in (404, 410):
        raise NotFoundError(f"{what}: HTTP {status}, the file is gone")
    if status == 206:
        parsed = parse_content_range(resp.headers.get("content-range"))
        if parsed is None or parsed[0] != offset:
            # A resume that does not start where we stopped would corrupt the file.
            part.unlink(missing_ok=True)
            raise TransientError(
                f"{what}: server resumed at the wrong offset "
                f"({resp.headers.get('content-range')!r}, wanted {offset}); restarting from 0"
            )
        return parsed[2]
    if status == 200:
        if offset:
            log.info("%s: server ignored the Range request; restarting from 0", what)
        length = resp.headers.get("content-length")
        return int(length) if length and length.isdigit() else None
    raise ApiError(f"{what}: HTTP {status}")
