"""A prediction child's answer, read by the run: predictions, or the error that stopped it."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import errors
from ..config import ModelSpec
from ..errors import ModelError, WorkerError
from ._child import MAX_ERROR_BYTES, MEMORY, OK
from ._process import Child, describe_exit, stop_child

log = logging.getLogger(__name__)

_ERROR_CLASSES: dict[str, type[ModelError]] = {
    c.__name__: c
    for c in (
        errors.ModelError,
        errors.ArtifactChangedError,
        errors.MissingExtraError,
        errors.MissingFeatureError,
        errors.WorkerError,
    )
}


@dataclass(frozen=True)
class PredictionResult:
    """One model's outcome: predictions, or the error that stopped it."""

    name: str
    predictions: pd.Series | None
    error: ModelError | None
    seconds: float
    output: str = ""  # what the model printed (stdout and stderr, bounded: see _capture.py)
    refusal: str | None = None  # why Numerai would refuse this pickle as a Model Upload


def poll(child: Child) -> PredictionResult | None:
    """The child's result if it has finished (or was just timed out), else None."""
    message: bytes | None = None
    if child.conn.poll():
        try:
            # Raw bytes, never a pickle: the parent must not run code a model crafted.
            message = child.conn.recv_bytes(8 * len(child.frame_index) + MAX_ERROR_BYTES)
        except (EOFError, OSError):
            message = None  # died without a word (or sent garbage): the exit code tells why
    elif child.process.is_alive():
        if time.monotonic() < child.deadline:
            return None
        stop_child(child, kill=True)
        return failed(
            child,
            WorkerError(
                f"model {child.spec.name!r} timed out after {child.timeout:g}s and was stopped "
                f"({_timeout_source(child.spec)})"
            ),
        )
    stop_child(child)
    if not message:
        return failed(child, WorkerError(describe_exit(child)))
    return _decode(child, message)


def _timeout_source(spec: ModelSpec) -> str:
    """Where the limit that stopped ``spec`` comes from, so the message says what to raise."""
    if spec.timeout is not None:
        return "raise timeout = ... in its models.toml entry or [defaults]"
    return "raise NUMERAI_MODEL_TIMEOUT or --model-timeout, or set timeout in its models.toml entry"


def _decode(child: Child, message: bytes) -> PredictionResult:
    kind, body = message[:1], message[1:]
    name = child.spec.name
    if kind == OK:
        size = 8 * len(child.frame_index)
        if len(body) < size:
            return failed(child, WorkerError(f"model {name!r}: worker sent a truncated result"))
        values = np.frombuffer(body[:size], dtype=np.float64)
        refusal = body[size:].decode("utf-8", errors="replace") or None
        preds = pd.Series(values.copy(), index=child.frame_index, name="prediction")
        return PredictionResult(name, preds, None, _elapsed(child), refusal=refusal)
    if kind == MEMORY:
        return failed(
            child,
            WorkerError(
                f"model {name!r} exceeded {child.memory_mb} MB of memory "
                "(raise memory_mb for this model if it needs more)"
            ),
        )
    try:
        info = json.loads(body.decode("utf-8"))
        cls = _ERROR_CLASSES.get(str(info["error"]), ModelError)
        text, trace = str(info["message"]), str(info.get("trace", ""))
    except (ValueError, KeyError, TypeError):
        return failed(child, WorkerError(f"model {name!r}: worker sent a malformed result"))
    if trace:
        log.debug("model %s traceback:\n%s", name, trace)
    return failed(child, cls(text))


def failed(child: Child, error: ModelError) -> PredictionResult:
    return PredictionResult(child.spec.name, None, error, _elapsed(child))


def _elapsed(child: Child) -> float:
    return time.monotonic() - child.started
