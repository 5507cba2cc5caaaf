"""Secret redaction for everything that leaves the process as text (logs, reports).

The library never formats a secret on purpose; this filter is the second line of defence for
what other libraries print (an httpx debug line, an exception carrying a header).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from types import TracebackType

MASK = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (of 4+ characters) masked."""
    for s in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(s, MASK)
    return text


class RedactFilter(logging.Filter):
    """A logging filter that masks secrets in the final message and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
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
    if not keep:
        return

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(redact(text, keep))

    sys.excepthook = hook
