"""Secret redaction for everything that leaves the process as text (logs, reports).

The library never formats a secret on purpose; this filter is the second line of defence for
what other libraries print (an httpx debug line, an exception carrying a header).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from types import TracebackType

MASK = "***"

# What a pre-signed storage URL or a storage error body carries that grants access: the
# signature, credential and token parameters of the query (S3 ``X-Amz-*``, GCS ``X-Goog-*``,
# Azure SAS ``sig``, the sandbox's ``X-Signature``), and the elements of an S3 error body that
# echo them. They come from the API at run time, so no fixed list can hold them.
_SIGNED_PARAM = re.compile(
    r"(?i)((?<![\w-])(?:[\w-]*(?:signature|credential|security-token|accesskeyid)|sig)=)"
    r"[^&\s\"'<>]+"
)
_SIGNED_ELEMENT = re.compile(
    r"(?is)(<(AWSAccessKeyId|StringToSign(?:Bytes)?|SignatureProvided|CanonicalRequest"
    r"(?:Bytes)?|HostId|RequestId)>).*?(</\2>)"
)


def redact_signed(text: str) -> str:
    """``text`` with pre-signed URLs' signatures and credentials masked (see above)."""
    text = _SIGNED_PARAM.sub(r"\1" + MASK, text)
    return _SIGNED_ELEMENT.sub(r"\1" + MASK + r"\3", text)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (of 4+ characters) masked, and any
    pre-signed URL's signature (:func:`redact_signed`)."""
    for s in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(s, MASK)
    return redact_signed(text)


class RedactFilter(logging.Filter):
    """A logging filter that masks secrets in the final message and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg, self.secrets)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            text = "".join(traceback.format_exception(*record.exc_info))
            record.exc_text = redact(text, self.secrets)
            record.exc_info = None
        return True


def install_excepthook(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` in the traceback of an exception nobody caught (the last line of
    defence: a library may put a header or URL holding the key into its exception)."""
    import sys
    import traceback

    keep = [s for s in secrets if s]

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(redact(text, keep))

    sys.excepthook = hook
