"""The sandbox is held to Numerai's real schema (issue 13): every type, field, argument, default,
nullability and deprecation the sandbox declares is the real API's (shared/numerai-schema, an
introspection of 2025-09), so no test can pass here against an API looser than the live one."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    build_schema,
)
from graphql.language import print_ast

from numerai_autopilot.sandbox import schema as sandbox_schema
from support.real_schema import PATH, real_schema

# What the sandbox may declare that the real schema does not, each with why. Keep it short: an
# entry here is a place where a test could pass against the sandbox and fail live.
ALLOWED: dict[str, str] = {}


@pytest.fixture(scope="module")
def real() -> GraphQLSchema:
    schema = real_schema()
    if schema is None:
        pytest.skip(f"Numerai's schema snapshot is not checked out at {PATH}")
    return schema


def _sandbox_types(built: GraphQLSchema) -> dict[str, GraphQLNamedType]:
    return {
        name: t
        for name, t in built.type_map.items()
        if not name.startswith("__") and name not in ("String", "Int", "Float", "Boolean", "ID")
    }


def _default(arg: GraphQLArgument) -> str | None:
    """The default as written in the SDL (``20``, ``"classic"``), None when there is none."""
    node = arg.ast_node.default_value if arg.ast_node is not None else None
    return None if node is None else print_ast(node)


def _field_differences(where: str, ours: GraphQLField, theirs: GraphQLField) -> list[str]:
    found = []
    if str(ours.type) != str(theirs.type):
        found.append(f"{where}: type {ours.type} here, {theirs.type} on Numerai")
    if ours.deprecation_reason != theirs.deprecation_reason:
        found.append(
            f"{where}: deprecation {ours.deprecation_reason!r} here, "
            f"{theirs.deprecation_reason!r} on Numerai"
        )
    for name, arg in ours.args.items():
        other = theirs.args.get(name)
        if other is None:
            found.append(f"{where}({name}): an argument Numerai does not have")
        elif str(arg.type) != str(other.type):
            found.append(f"{where}({name}): {arg.type} here, {other.type} on Numerai")
        elif _default(arg) != _default(other):
            found.append(f"{where}({name}): default {_default(arg)} here, {_default(other)} there")
    for name, other in theirs.args.items():
        required = str(other.type).endswith("!") and _default(other) is None
        if name not in ours.args and (required or _default(other) is not None):
            # A required argument, or one whose default changes the answer, must be modelled.
            found.append(f"{where}({name}): Numerai's argument is missing here")
    return found


def _differences(real: GraphQLSchema, built: GraphQLSchema) -> list[str]:
    found: list[str] = []
    for name, ours in sorted(_sandbox_types(built).items()):
        theirs = real.type_map.get(name)
        if theirs is None:
            found.append(f"{name}: a type Numerai does not have")
            continue
        if type(ours) is not type(theirs):
            found.append(f"{name}: a {type(ours).__name__} here, a {type(theirs).__name__} there")
            continue
        if isinstance(ours, GraphQLEnumType) and isinstance(theirs, GraphQLEnumType):
            extra = set(ours.values) - set(theirs.values)
            found += [f"{name}.{v}: an enum value Numerai does not have" for v in sorted(extra)]
        if isinstance(ours, GraphQLObjectType) and isinstance(theirs, GraphQLObjectType):
            for field_name, field in ours.fields.items():
                where = f"{name}.{field_name}"
                other = theirs.fields.get(field_name)
                if other is None:
                    found.append(f"{where}: a field Numerai does not have")
                else:
                    found += _field_differences(where, field, other)
    return [d for d in found if d.split(":")[0].split("(")[0] not in ALLOWED]


def test_the_sandbox_declares_nothing_numerai_does_not(real: GraphQLSchema) -> None:
    assert _differences(real, sandbox_schema.build()) == []


def test_the_root_types_are_named_as_numerai_names_them(real: GraphQLSchema) -> None:
    """Error texts name the root type ('Cannot query field "x" on type "RootQueryType"')."""
    built = sandbox_schema.build()
    assert built.query_type is not None and real.query_type is not None
    assert built.mutation_type is not None and real.mutation_type is not None
    assert built.query_type.name == real.query_type.name
    assert built.mutation_type.name == real.mutation_type.name


def test_every_scalar_the_sandbox_declares_is_numerais(real: GraphQLSchema) -> None:
    built = sandbox_schema.build()
    scalars = {n for n, t in _sandbox_types(built).items() if isinstance(t, GraphQLScalarType)}
    assert scalars == {"Date", "Nmr", "Time"}
    assert all(isinstance(real.type_map[s], GraphQLScalarType) for s in scalars)


def test_the_comparison_catches_each_kind_of_looseness(real: GraphQLSchema) -> None:
    """The checker itself: a sandbox loose in each way the issue found is reported."""
    loose = build_schema(
        sandbox_schema.SDL.replace(
            "submissionUploadAuth(filename: String!, modelId: ID, tournament: Int!)",
            "submissionUploadAuth(filename: String!, modelId: String, tournament: Int)",
        )
        .replace(
            "latestSubmissions(latestNRounds: Int = 20)", "latestSubmissions(latestNRounds: Int)"
        )
        .replace("  roundOpen: Date\n", "  roundOpen: Boolean\n")
        .replace('  status: String @deprecated(reason: "Always nil")\n', "  status: String\n")
        .replace("type Model {\n", "type Model {\n  displayName: String\n")
    )
    assert _differences(real, loose) == [
        "LatestSubmission.roundOpen: type Boolean here, Date on Numerai",
        "Model.displayName: a field Numerai does not have",
        "Model.latestSubmissions(latestNRounds): default None here, 20 there",
        "RootQueryType.submissionUploadAuth(modelId): String here, ID on Numerai",
        "RootQueryType.submissionUploadAuth(tournament): Int here, Int! on Numerai",
        "V2Submission.status: deprecation None here, 'Always nil' on Numerai",
    ]
