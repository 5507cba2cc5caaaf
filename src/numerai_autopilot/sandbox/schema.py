"""The sandbox's GraphQL schema (SDL) and how a request is executed against it.

Numerai accepts camelCase and snake_case for every field and argument and answers with keys as
written in the query. The schema is declared in camelCase only; each request's document is
rewritten first (snake_case names turned into camelCase, with the written name kept as alias).
Numerai does not enforce variable types in argument positions (numerapi declares ``String``
where the schema says ``ID``), so that one validation rule is left out.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    execute_sync,
    get_location,
    parse,
    specified_rules,
    validate,
    visit,
)
from graphql.validation import VariablesInAllowedPositionRule

from ._sdl import SDL

__all__ = [
    "SDL",
    "VALIDATION_RULES",
    "build",
    "camel",
    "prepare",
    "root_fields",
    "run",
    "unknown_field_error",
]

VALIDATION_RULES = [rule for rule in specified_rules if rule is not VariablesInAllowedPositionRule]
_SNAKE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``submission_upload_auth`` -> ``submissionUploadAuth``; camelCase and ``__x`` unchanged."""
    if name.startswith("__"):
        return name
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


class _Camelize(Visitor):
    def enter_field(self, node: FieldNode, *_: Any) -> FieldNode | None:
        name = camel(node.name.value)
        if name == node.name.value:
            return None
        return dataclasses.replace(node, alias=node.alias or node.name, name=NameNode(value=name))

    def enter_argument(self, node: Any, *_: Any) -> Any:
        name = camel(node.name.value)
        if name == node.name.value:
            return None
        return dataclasses.replace(node, name=NameNode(value=name))


def build() -> GraphQLSchema:
    """The schema, without resolvers (see resolvers.attach)."""
    return build_schema(SDL)


def prepare(query: str) -> DocumentNode:
    """Parse ``query`` and camelize its names; raises GraphQLError on a syntax error."""
    return visit(parse(query), _Camelize())  # type: ignore[no-any-return]


def root_fields(document: DocumentNode) -> list[str]:
    """The camelCase root field names of every operation: the counters' operation names."""
    names: list[str] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for selection in definition.selection_set.selections:
                if isinstance(selection, FieldNode) and not selection.name.value.startswith("__"):
                    names.append(selection.name.value)
    return names


def run(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any] | None,
    context: Any,
) -> dict[str, Any]:
    """Validate and execute; the result as Numerai's JSON body ({"data", "errors"})."""
    errors = validate(schema, document, VALIDATION_RULES)
    if errors:
        return {"data": None, "errors": [_error(e) for e in errors]}
    result = execute_sync(schema, document, variable_values=variables, context_value=context)
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_error(e) for e in result.errors]
    return body


def unknown_field_error(
    schema: GraphQLSchema, document: DocumentNode, type_name: str, field_name: str
) -> dict[str, Any] | None:
    """The error Numerai's Absinthe server gives a document that selects a field it does not
    have, as if ``type_name.field_name`` were gone; None when the document does not select it."""
    info = TypeInfo(schema)
    found: list[FieldNode] = []

    class _Find(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> None:
            parent = info.get_parent_type()
            if parent is not None and parent.name == type_name and node.name.value == field_name:
                found.append(node)

    visit(document, TypeInfoVisitor(info, _Find()))
    if not found:
        return None
    error: dict[str, Any] = {"message": f'Cannot query field "{field_name}" on type "{type_name}".'}
    loc = found[0].loc
    if loc is not None:
        where = get_location(loc.source, loc.start)
        error["locations"] = [{"line": where.line, "column": where.column}]
    return error


def _error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    formatted.pop("extensions", None)
    return formatted
