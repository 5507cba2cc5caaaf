"""Fault injection and request counters of the sandbox.

A fault is consumed once per matching request, ``count`` times. ``match`` narrows it to requests
whose GraphQL operation (root field, camelCase) equals it, or whose ``"METHOD /path"`` contains it.
Each kind applies only where it makes sense (``truncate`` to downloads, ``upload_fail`` to PUTs):
a request of another sort neither triggers nor consumes it.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from graphql import GraphQLInt, GraphQLScalarType

from .state import Model

# Which sort of request each kind applies to. ANSWER kinds are applied by the resolvers while
# they build a GraphQL answer (per field, and per model with a ``model`` param): the HTTP layer
# never takes them.
ANY, GRAPHQL, DOWNLOAD, UPLOAD = "any", "graphql", "download", "upload"
ANSWER = "answer"
FAULT_KINDS: dict[str, frozenset[str]] = {
    "status": frozenset({ANY}),
    "hang": frozenset({ANY}),
    "slow": frozenset({ANY}),
    "drop": frozenset({ANY}),
    "close_round": frozenset({ANY}),
    "non_json": frozenset({GRAPHQL}),
    "after_commit": frozenset({GRAPHQL}),
    "naive_datetimes": frozenset({GRAPHQL}),
    "missing_fields": frozenset({GRAPHQL}),
    "unknown_field": frozenset({GRAPHQL}),
    "truncate": frozenset({DOWNLOAD}),
    "ignore_range": frozenset({DOWNLOAD}),
    "upload_fail": frozenset({UPLOAD}),
    # Hostile answers (issue 16), applied by resolvers.py:
    "null_fields": frozenset({ANSWER}),
    "unknown_status": frozenset({ANSWER}),
    "duplicate_name": frozenset({ANSWER}),
    "bad_integer": frozenset({ANSWER}),
    "bad_url": frozenset({ANSWER}),
}


@dataclass
class Fault:
    kind: str
    count: int = 1
    match: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, sort: str, ops: list[str], method_path: str) -> bool:
        sorts = FAULT_KINDS[self.kind]
        if ANY not in sorts and sort not in sorts:
            return False
        return self.match is None or self.match in ops or self.match in method_path

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "count": self.count, "match": self.match, **self.params}


class Faults:
    """The queue of armed faults; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def inject(self, kind: str, *, count: int = 1, match: str | None = None, **params: Any) -> None:
        """Arm a fault; raises ValueError for an unknown kind or a count below 1."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}: use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(Fault(kind, count, match, dict(params)))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def armed(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, sort: str, ops: list[str], method_path: str) -> list[Fault]:
        """Consume one use of each armed kind matching this request (first armed wins per kind)."""
        taken: dict[str, Fault] = {}
        with self._lock:
            for fault in list(self._faults):
                if fault.kind in taken or not fault.matches(sort, ops, method_path):
                    continue
                taken[fault.kind] = fault
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
        return list(taken.values())

    def take_answer(self, kind: str, field: str, model: str | None = None) -> Fault | None:
        """Consume one use of the first armed ANSWER fault of ``kind`` for this root or model
        ``field`` (its ``match``, when set, must equal it) and, when the fault names a
        ``model``, only for that model."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != kind or fault.match not in (None, field):
                    continue
                if fault.params.get("model") not in (None, model):
                    continue
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None


class Counters:
    """Requests by operation and path, bytes served, completed downloads, uploads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.graphql: Counter[str] = Counter()
            self.http: Counter[str] = Counter()
            self.downloads: Counter[str] = Counter()
            self.ranged = 0
            self.bytes_served = 0
            self.uploads = 0

    def request(self, method_path: str, ops: list[str]) -> None:
        with self._lock:
            self.requests += 1
            self.http[method_path] += 1
            for op in ops:
                self.graphql[op] += 1

    def served(self, n: int) -> None:
        with self._lock:
            self.bytes_served += n

    def downloaded(self, filename: str) -> None:
        with self._lock:
            self.downloads[filename] += 1

    def partial(self) -> None:
        with self._lock:
            self.ranged += 1

    def uploaded(self) -> None:
        with self._lock:
            self.uploads += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "graphql": dict(self.graphql),
                "http": dict(self.http),
                "bytes_served": self.bytes_served,
                "downloads": dict(self.downloads),
                "uploads": self.uploads,
                "ranged": self.ranged,
            }


# --- what the ANSWER kinds put into answers (resolvers.py applies them) ----------------------
BAD_URL = "http://[::1"
"""What ``bad_url`` answers by default: an IPv6 host without its bracket (httpx.InvalidURL)."""


@dataclass(frozen=True)
class RawInt:
    """A value an Int field sends unchecked: ``bad_integer`` passes 2**63, -1 or true through
    GraphQL's 32-bit Int, as a hostile proxy or a changed API could."""

    value: Any


def _serialize_int(value: Any) -> Any:
    return value.value if isinstance(value, RawInt) else GraphQLInt.serialize(value)


class _SameNameScalar(GraphQLScalarType):
    # graphql-core refuses a second type named like a standard scalar; this one must look
    # exactly like Int to clients (introspection, error texts), so it opts out of the registry.
    reserved_types: ClassVar[dict[str, Any]] = {}  # type: ignore[misc]


# Same name and parsing as Int: only the fields carrying round numbers use it (see attach).
LOOSE_INT = _SameNameScalar(
    "Int",
    serialize=_serialize_int,
    parse_value=GraphQLInt.parse_value,
    parse_literal=GraphQLInt.parse_literal,
)


def duplicate_name(models: list[Model], fault: Fault | None) -> list[Model]:
    """``models`` plus, under ``duplicate_name``, a copy of another model (param ``other``, else
    one of the same tournament) listed under ``name`` (default: the first model): one name
    for two ids."""
    if fault is None or not models:
        return models
    name = fault.params.get("name") or models[0].name
    target = next((m for m in models if m.name == name), models[0])
    want = fault.params.get("other")
    other = next(
        (
            m
            for m in models
            if m.id != target.id and (m.name == want if want else m.tournament == target.tournament)
        ),
        None,
    )
    return models if other is None else [*models, dataclasses.replace(other, name=name)]
