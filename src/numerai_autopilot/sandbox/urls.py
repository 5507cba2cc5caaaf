"""Presigned-style URLs: an HMAC over method, path and expiry, like S3's, checked on use."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote


class UrlSigner:
    """Signs ``/path`` for one HTTP method until an expiry (unix seconds)."""

    def __init__(self, base_url: str, ttl: float = 900.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self._key = secrets.token_bytes(32)

    def _sig(self, method: str, path: str, expires: int) -> str:
        message = f"{method} {path} {expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def sign(self, method: str, path: str, now: float) -> str:
        """A full URL for ``path`` (unquoted) usable with ``method`` until now + ttl."""
        quoted = quote(path)
        expires = int(now + self.ttl)
        signature = self._sig(method, quoted, expires)
        return f"{self.base_url}{quoted}?X-Expires={expires}&X-Signature={signature}"

    def check(self, method: str, quoted_path: str, query: dict[str, str], now: float) -> str | None:
        """None when the URL is good, else the reason (S3-like) to answer 403 with."""
        # HEAD is allowed wherever GET is, as with S3 presigned GETs.
        signed_method = "GET" if method == "HEAD" else method
        try:
            expires = int(query["X-Expires"])
            signature = query["X-Signature"]
        except (KeyError, ValueError):
            return "AccessDenied: Query-string authentication requires X-Expires and X-Signature"
        expected = self._sig(signed_method, quoted_path, expires)
        if not hmac.compare_digest(expected, signature):
            return "SignatureDoesNotMatch: The request signature we calculated does not match"
        if now > expires:
            return "AccessDenied: Request has expired"
        return None
