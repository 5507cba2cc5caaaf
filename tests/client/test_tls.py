"""TLS is verified by default; a certificate that does not verify is a permanent, explained
error (never retried, never silently accepted as numerapi's resumed downloads do)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.errors import ApiError
from numerai_autopilot.tournaments import Tournament


class NoRound(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"data": {"rounds": [null]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def self_signed_url(tmp_path: Path) -> Iterator[str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = HTTPServer(("127.0.0.1", 0), NoRound)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_unverifiable_certificate_is_refused_and_explained(self_signed_url: str) -> None:
    with (
        NumeraiClient(self_signed_url, timeout=5, retry_wait_initial=0) as api,
        pytest.raises(ApiError, match=r"TLS certificate.*SSL_CERT_FILE"),
    ):
        api.current_round(Tournament.CLASSIC)


def test_the_same_server_answers_when_verification_is_explicitly_off(self_signed_url: str) -> None:
    with NumeraiClient(self_signed_url, timeout=5, verify=False) as api:
        assert api.current_round(Tournament.CLASSIC) is None
