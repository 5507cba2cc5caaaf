"""A due model's artifact, looked at once: format, magic bytes, pin, benchmarks need.

The run, ``plan`` and ``models check`` all ask these questions through :func:`resolve`, so the
three fail on the same things. The spec it hands on has its format set (no later stage reads
the artifact's head again) and its pin cleared once verified here (the file is hashed once).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..config import ModelSpec
from ..errors import AutopilotError, ModelError
from ..models import infer_format, needs_benchmarks, verify_artifact

_HEAD = 16  # enough for every magic below and for infer_format's
# Magic bytes of the formats that have them: a file that starts with another format's magic
# is the wrong file (or the wrong `format`), whatever its name says.
_MAGIC = {
    "lightgbm": (b"tree\n", b"tree\r\n"),
    "catboost": (b"CBM1",),
    "xgboost": (b"{",),  # JSON and UBJSON models both open an object
}
_OTHERS = {b"tree\n": "lightgbm", b"tree\r\n": "lightgbm", b"CBM1": "catboost", b"PAR1": "parquet"}


@dataclass(frozen=True)
class Resolved:
    """What the stages need to know about one model's artifact."""

    spec: ModelSpec
    """The entry with ``format`` set and (verified) ``sha256`` cleared."""
    fmt: str
    benchmarks: bool
    """Its predict may take ``live_benchmark_models`` (Model Upload style)."""


def resolve(spec: ModelSpec) -> Resolved:
    """Look at ``spec``'s artifact once. Raises AutopilotError (ModelError or ConfigError)
    naming the model when it is missing, unreadable, of another format, or not its pin."""
    if spec.blend is not None:
        return Resolved(replace(spec, format="blend"), "blend", benchmarks=False)
    verify_artifact(spec)  # exists, and matches its pin (the one hash of the run)
    head = None if spec.artifact is None else _head(spec.name, spec.artifact)
    fmt = infer_format(spec, head=head)  # the one read of its head
    if spec.artifact is not None and head is not None:
        problem = _magic_problem(fmt, spec.artifact, head)
        if problem is not None:
            raise ModelError(f"model {spec.name!r}: {problem}")
    pinned = replace(spec, format=fmt, sha256=None)
    return Resolved(pinned, fmt, benchmarks=needs_benchmarks(pinned))


def problem_of(spec: ModelSpec) -> str | None:
    """:func:`resolve`'s error as text, or None when the artifact looks right."""
    try:
        resolve(spec)
    except AutopilotError as exc:
        return str(exc)
    return None


def _head(name: str, path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_HEAD)
    except OSError as exc:
        raise ModelError(f"model {name!r}: cannot read artifact {path}: {exc.strerror}") from exc


def _magic_problem(fmt: str, path: Path, head: bytes) -> str | None:
    own = _MAGIC.get(fmt)
    if own is not None:
        if head.lstrip().startswith(own):
            return None
        return f"{path.name} is not a {fmt} model file (it does not start like one)"
    other = next((o for magic, o in _OTHERS.items() if head.startswith(magic)), None)
    if fmt == "predictions" and path.suffix.lower() == ".parquet":
        return None if other == "parquet" else f"{path.name} is not a parquet file"
    if other is not None and not (fmt == "predictions" and other == "parquet"):
        return f"{path.name} looks like a {other} file, not {fmt} (set format, or fix artifact)"
    return None
