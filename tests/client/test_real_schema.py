"""Every GraphQL document the client sends is valid against Numerai's real schema (a captured
snapshot: /work/shared/numerai-schema), as Numerai validates it: snake_case accepted as
camelCase, variable types not held to their argument positions."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import httpx
import pytest
from graphql import GraphQLSchema, validate

from numerai_autopilot.client import _queries
from numerai_autopilot.client._snapshot import rejected_field, snapshot_query
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox import schema as sandbox_schema
from numerai_autopilot.tournaments import Tournament
from support import real_schema as support_schema
from support.sandbox_http import gql

DOCUMENTS = {
    name: text
    for name, text in vars(_queries).items()
    if name.isupper() and isinstance(text, str) and text.lstrip().startswith(("query", "mutation"))
}
COMBINATIONS = [
    combo
    for n in range(1, len(Tournament) + 1)
    for combo in itertools.combinations(sorted(Tournament), n)
]


@pytest.fixture(scope="module")
def real_schema() -> GraphQLSchema:
    schema = support_schema.real_schema()
    if schema is None:
        pytest.skip(f"Numerai's schema snapshot is not checked out at {support_schema.PATH}")
    return schema


def _errors(schema: GraphQLSchema, text: str) -> list[str]:
    document = sandbox_schema.prepare(text)  # snake_case -> camelCase, as Numerai accepts
    return [e.message for e in validate(schema, document, sandbox_schema.VALIDATION_RULES)]


def test_every_document_the_client_sends_is_checked() -> None:
    """Each ``q.NAME`` the client's modules send is one of the documents checked below."""
    sent: set[str] = set()
    for module in Path(_queries.__file__).parent.glob("*.py"):
        sent |= set(re.findall(r"\bq\.([A-Z_]+)\b", module.read_text(encoding="utf-8")))
    assert len(sent) >= 11
    assert sent <= set(DOCUMENTS)


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_client_document_is_valid_against_numerais_schema(
    real_schema: GraphQLSchema, name: str
) -> None:
    assert _errors(real_schema, DOCUMENTS[name]) == []


@pytest.mark.parametrize("tournaments", COMBINATIONS, ids=lambda c: "+".join(t.label for t in c))
def test_snapshot_document_is_valid_against_numerais_schema(
    real_schema: GraphQLSchema, tournaments: tuple[Tournament, ...]
) -> None:
    assert _errors(real_schema, snapshot_query(tournaments)) == []


def test_a_document_numerais_schema_rejects_is_named_by_its_field(
    real_schema: GraphQLSchema,
) -> None:
    """The check itself can fail, and what graphql-core says reads as the snapshot expects."""
    bad = snapshot_query([Tournament.CLASSIC]).replace("roundNumber", "roundNumbr")
    (message,) = _errors(real_schema, bad)
    assert rejected_field(message) == "LatestSubmission.roundNumbr"


def test_the_sandbox_keeps_what_it_received_for_the_real_schema_check(
    real_schema: GraphQLSchema, sb: Sandbox
) -> None:
    """The check tests/conftest.py runs after every e2e, fault, run and schedule test: the
    sandbox keeps each distinct document as written, and one Numerai refuses is named."""
    good = "{ account { models { id name } } }"
    loose = "{ account { models { id displayName } } }"  # the sandbox refuses it now too
    with httpx.Client(base_url=sb.url, timeout=5.0) as client:
        for text in (good, good, loose):
            gql(client, sb, text)
    assert sb.documents() == [good, loose]
    refused = support_schema.invalid(sb.documents())
    assert list(refused) == [loose]
    assert refused[loose] == ("Cannot query field 'displayName' on type 'Model'.",)
