"""Numerai's real schema (shared/numerai-schema, beside the repository in CI) and the check that
holds a GraphQL document to it as Numerai's server does: snake_case accepted as camelCase, and
variable types not held to their argument positions."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from graphql import GraphQLSchema, build_schema, validate

from numerai_autopilot.sandbox import schema as sandbox_schema

PATH = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "numerai-schema"
    / "numerai_real_schema.graphql"
)


@cache
def real_schema() -> GraphQLSchema | None:
    """The real schema, or None where the snapshot is not checked out."""
    return build_schema(PATH.read_text(encoding="utf-8")) if PATH.is_file() else None


@cache
def errors(text: str) -> tuple[str, ...]:
    """What Numerai's schema says is wrong with ``text`` (empty: valid). Cached per text: the
    suites send the same few dozen documents thousands of times."""
    schema = real_schema()
    if schema is None:
        return ()
    document = sandbox_schema.prepare(text)  # snake_case -> camelCase, as Numerai accepts
    rules = sandbox_schema.VALIDATION_RULES
    return tuple(e.message for e in validate(schema, document, rules))


def invalid(documents: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each document Numerai's schema refuses, with why."""
    return {text: found for text in documents if (found := errors(text))}
