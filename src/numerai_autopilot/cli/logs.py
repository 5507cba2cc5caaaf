"""Logging set-up for the CLI: rich in a terminal, JSON lines otherwise; secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

from ..redact import RedactFilter, install_excepthook

_HANDLER_NAME = "numerai-autopilot"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def configured() -> bool:
    """Whether :func:`configure` has set up the root logger in this process."""
    return any(h.get_name() == _HANDLER_NAME for h in logging.getLogger().handlers)


def use_json(log_format: str) -> bool:
    return log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())


def configure(log_format: str, secrets: Iterable[str], verbose: bool = False) -> None:
    """Configure the root logger once for this process (idempotent: replaces our handler)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if h.get_name() == _HANDLER_NAME:
            root.removeHandler(h)
    handler: logging.Handler
    if use_json(log_format):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
    else:
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
    secrets = list(secrets)
    handler.addFilter(RedactFilter(secrets))
    install_excepthook(secrets)
    handler.set_name(_HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("httpx", "httpcore", "filelock", "numerapi", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
