"""What a log line is about: the run, the model and the stage, carried by context variables so
that every line logged while a run works on something says so (in JSON mode, as fields).

The library binds (:func:`bind`); the CLI's handler reads them (:class:`ContextFilter`).
Threads started without the run's context (a background upload) still see the run's id: the
run also keeps it process-wide while it is active.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

FIELDS = ("run_id", "model", "stage")

_VARS: dict[str, ContextVar[str | None]] = {n: ContextVar(f"log_{n}", default=None) for n in FIELDS}
_active_run: list[str] = []  # ids of the runs active in this process (a stack: nested runs)


@contextlib.contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Within the block, log lines carry these fields (``run_id``, ``model``, ``stage``)."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log fields {sorted(unknown)}")
    tokens = [(_VARS[n], _VARS[n].set(v)) for n, v in fields.items()]
    run_id = fields.get("run_id")
    if run_id:
        _active_run.append(run_id)
    try:
        yield
    finally:
        if run_id:
            _active_run.remove(run_id)
        for var, token in reversed(tokens):
            var.reset(token)


def current(name: str) -> str | None:
    """The bound value of field ``name`` here (the active run's id for ``run_id``)."""
    value = _VARS[name].get()
    if value is None and name == "run_id" and _active_run:
        return _active_run[-1]
    return value


class ContextFilter(logging.Filter):
    """Sets ``record.run_id``, ``.model`` and ``.stage`` from the context, unless the call
    gave them (``extra={"model": name}``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, current(name))
        return True
