"""Logging set-up for the CLI: rich in a terminal, JSON lines otherwise; secrets redacted.

A JSON line carries ``run_id``, ``model`` and ``stage`` (null where they do not apply; see
logctx.py) and any ``event``/``seconds`` the call gave. In a terminal the stage lines are
left out (the live progress shows the stages) unless ``-v`` asks for everything."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..logctx import FIELDS, ContextFilter
from ..redact import RedactFilter, install_excepthook

if TYPE_CHECKING:
    from rich.console import Console

_HANDLER_NAME = "numerai-autopilot"
_EXTRA = ("event", "seconds")  # fields a call may add with extra={...}
_console: list[Console] = []


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            out[name] = getattr(record, name, None)
        for name in _EXTRA:
            if (value := getattr(record, name, None)) is not None:
                out[name] = value
        if record.exc_text:
            out["exc"] = record.exc_text
        elif record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class _NoStageLines(logging.Filter):
    """A terminal shows stages live (progress_view.py): their log lines only with -v."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(getattr(record, "event", "")).startswith("stage.")


def configured() -> bool:
    """Whether :func:`configure` has set up the root logger in this process."""
    return any(h.get_name() == _HANDLER_NAME for h in logging.getLogger().handlers)


def use_json(log_format: str) -> bool:
    return log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())


def stderr_console() -> Console:
    """The one console on stderr that log lines and the live progress share (so that a log
    line prints above the progress display instead of through it)."""
    if not _console:
        from rich.console import Console

        _console.append(Console(stderr=True))
    return _console[0]


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

        _console.clear()  # stderr may have been replaced since (tests capture it)
        handler = RichHandler(
            console=stderr_console(), show_path=False, rich_tracebacks=False, markup=False
        )
        if not verbose:
            handler.addFilter(_NoStageLines())
    secrets = list(secrets)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactFilter(secrets))
    install_excepthook(secrets)
    handler.set_name(_HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # A library's warnings.warn (pandas, sklearn) would be a plain line amid the JSON ones.
    logging.captureWarnings(True)
    for noisy in ("httpx", "httpcore", "filelock", "numerapi", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
