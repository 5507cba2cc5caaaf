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

import httpx
import pytest

from numerai_autopilot.client import NumeraiClient, ca_locations, verifying_context
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
def self_signed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server on 127.0.0.1 with a self-signed certificate (valid for that address),
    and the certificate, which a client trusts through SSL_CERT_FILE."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server = HTTPServer(("127.0.0.1", 0), NoRound)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def self_signed_url(self_signed: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return self_signed[0]


def test_unverifiable_certificate_is_refused_and_explained(self_signed_url: str) -> None:
    with (
        NumeraiClient(self_signed_url, timeout=5, retry_wait_initial=0) as api,
        pytest.raises(ApiError, match=r"TLS certificate.*SSL_CERT_FILE"),
    ):
        api.current_round(Tournament.CLASSIC)


def test_the_same_server_answers_when_verification_is_explicitly_off(self_signed_url: str) -> None:
    with NumeraiClient(self_signed_url, timeout=5, verify=False) as api:
        assert api.current_round(Tournament.CLASSIC) is None


@pytest.fixture
def trusted_url(self_signed: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's URL, its certificate trusted through SSL_CERT_FILE (as httpx honours it: a
    company proxy's or a private CA's certificate, by file)."""
    url, cert = self_signed
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return url


def test_a_certificate_trusted_through_ssl_cert_file_verifies(trusted_url: str) -> None:
    with NumeraiClient(trusted_url, timeout=5, retry_wait_initial=0) as api:
        assert api.current_round(Tournament.CLASSIC) is None


def test_the_ca_certificates_load_at_the_first_handshake_not_before(trusted_url: str) -> None:
    url = trusted_url
    ctx = verifying_context()
    assert ctx.verify_mode is ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.cert_store_stats()["x509_ca"] == 0  # nothing read yet: a client costs no parse
    with httpx.Client(verify=ctx, timeout=5) as http:
        assert http.post(url, content=b"{}").status_code == 200
        assert http.post(url, content=b"{}").status_code == 200
    assert ctx.cert_store_stats()["x509_ca"] == 1  # read once, before the first handshake


def test_without_ssl_cert_file_the_ca_bundle_is_certifis(monkeypatch: pytest.MonkeyPatch) -> None:
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert ca_locations() == (certifi.where(), None)
    monkeypatch.setenv("SSL_CERT_DIR", "/etc/ssl/certs")
    assert ca_locations() == (None, "/etc/ssl/certs")
