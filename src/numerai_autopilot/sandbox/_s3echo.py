"""An S3-style refusal that echoes the request's credentials, as S3's own 403 bodies do.

S3 answers a bad signature with XML holding the access key id, the string it signed, the
signature it was given and the canonical request (the whole query, signature included). A
client that puts such a body into its error message leaks them into logs and ledgers. The
sandbox's ``upload_fail`` fault sends one when given ``echo_signature=True``; what it echoed
is kept in :data:`ECHOED`, so that a test can look for every piece of it afterwards.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

ACCESS_KEY_ID = "AKIASANDBOXECHO7Q2X"
ECHOED: list[str] = []
"""Every credential-like value an echo body carried (the signature, the access key id)."""


def signature_echo(method: str, path: str, query: dict[str, str], base_url: str) -> bytes:
    """The body of a ``SignatureDoesNotMatch`` 403 for this request."""
    signature = query.get("X-Signature", "")
    pairs = "&".join(f"{k}={v}" for k, v in query.items())
    ECHOED.extend(v for v in (signature, ACCESS_KEY_ID) if v)
    url = f"{base_url.rstrip('/')}{path}?X-Amz-Signature={signature}&{pairs}"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
        "<Message>The request signature we calculated does not match the signature you "
        f"provided. Check your key and signing method for {escape(url)}</Message>"
        f"<AWSAccessKeyId>{ACCESS_KEY_ID}</AWSAccessKeyId>"
        f"<StringToSign>{escape(method)}\n\n{escape(path)}\n{escape(pairs)}</StringToSign>"
        f"<SignatureProvided>{escape(signature)}</SignatureProvided>"
        f"<CanonicalRequest>{escape(method)} {escape(path)}?{escape(pairs)}</CanonicalRequest>"
        "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
    ).encode()
