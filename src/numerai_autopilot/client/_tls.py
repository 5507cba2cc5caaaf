"""The TLS context of our HTTP client: httpx's own verification, the CA bundle read when it
is first needed.

httpx verifies against certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set,
and reads it when a client is made: importing certifi and parsing its ~150 certificates is
about 55 ms of every command's start on 2 cores, a sixth of the idle run's budget. This is the
same verification (``ssl.create_default_context``'s settings, the same CA locations), with the
bundle loaded at the first TLS handshake: a run against the real API pays it then, a run that
makes no https request (the sandbox, the tests, the demo) never does.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any

_LOADING = threading.Lock()


class _TrustOnFirstUse(ssl.SSLContext):
    """A verifying client context whose CA certificates load before its first handshake
    (``wrap_socket``: a connection; ``wrap_bio``: TLS through an https proxy)."""

    _trusted = False

    def _trust(self) -> None:
        with _LOADING:
            if self._trusted:
                return
            cafile, capath = ca_locations()
            self.load_verify_locations(cafile=cafile, capath=capath)
            self._trusted = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._trust()
        return super().wrap_bio(*args, **kwargs)


def ca_locations() -> tuple[str | None, str | None]:
    """``(cafile, capath)`` as httpx chooses them: ``SSL_CERT_FILE``, else ``SSL_CERT_DIR``,
    else certifi's bundle."""
    if os.environ.get("SSL_CERT_FILE"):
        return os.environ["SSL_CERT_FILE"], None
    if os.environ.get("SSL_CERT_DIR"):
        return None, os.environ["SSL_CERT_DIR"]
    import certifi

    return certifi.where(), None


def verifying_context() -> ssl.SSLContext:
    """A context that verifies certificates and host names (``ssl.create_default_context``'s
    client settings, which httpx uses), its CA certificates loaded on first use."""
    ctx = _TrustOnFirstUse(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED, check_hostname
    if sys.version_info >= (3, 13):  # as create_default_context does from 3.13
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:  # as create_default_context does
        ctx.keylog_filename = keylog
    return ctx
