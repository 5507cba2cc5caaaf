"""The ANSWER fault kinds (issue 16), armed over the admin API, as a raw GraphQL client sees
them: applied per field and per model, consumed once per use, invisible otherwise."""

from __future__ import annotations

from typing import Any

import httpx

from numerai_autopilot.sandbox import Sandbox
from support.sandbox_http import ROUND_QUERY, gql

LATEST = (
    "query { account { models { id name tournament "
    "latestSubmissions(latestNRounds: 1) { id roundNumber status } } } }"
)


def latest(client: httpx.Client, sb: Sandbox) -> list[dict[str, Any]]:
    answer = gql(client, sb, LATEST)
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    models: list[dict[str, Any]] = answer.json()["data"]["account"]["models"]
    return models


def entry(models: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in models if m["name"] == name)["latestSubmissions"][0]
    return found


def test_null_fields_nulls_one_models_entries_only(sb: Sandbox, client: httpx.Client) -> None:
    armed = client.post(
        "/_sandbox/faults",
        json={"kind": "null_fields", "model": "netta_rufina", "fields": ["roundNumber", "status"]},
    )
    assert armed.status_code == 200
    models = latest(client, sb)
    assert entry(models, "netta_rufina") | {"id": None} == {
        "id": None,
        "roundNumber": None,
        "status": None,
    }
    assert entry(models, "anas_platyrhynchos")["roundNumber"] is not None
    assert client.get("/_sandbox/faults").json() == []  # consumed by netta's entry alone
    assert entry(latest(client, sb), "netta_rufina")["status"] == "none"


def test_unknown_status_gives_the_entry_that_status_and_an_id(
    sb: Sandbox, client: httpx.Client
) -> None:
    sb.inject("unknown_status", model="anas_platyrhynchos", status="rejected")
    e = entry(latest(client, sb), "anas_platyrhynchos")
    assert e["status"] == "rejected" and e["id"] and isinstance(e["roundNumber"], int)


def test_duplicate_name_lists_another_models_id_under_the_name(
    sb: Sandbox, client: httpx.Client
) -> None:
    sb.inject("duplicate_name", name="anas_platyrhynchos", other="netta_rufina")
    models = latest(client, sb)
    ids = {m["id"] for m in models if m["name"] == "anas_platyrhynchos"}
    netta = next(m["id"] for m in models if m["name"] == "netta_rufina")
    assert len(ids) == 2 and netta in ids
    assert len(latest(client, sb)) == len(sb.models)  # one request only


def test_bad_integer_passes_values_past_the_32_bit_int(sb: Sandbox, client: httpx.Client) -> None:
    for value in (2**63, -1, True):
        sb.inject("bad_integer", match="rounds", value=value)
        answer = gql(client, sb, ROUND_QUERY, {"t": 8}).json()
        assert "errors" not in answer and answer["data"]["rounds"][0]["number"] == value
    # Unarmed, the field is Int as before.
    assert isinstance(
        gql(client, sb, ROUND_QUERY, {"t": 8}).json()["data"]["rounds"][0]["number"], int
    )


def test_bad_url_answers_a_malformed_dataset_and_upload_url(
    sb: Sandbox, client: httpx.Client
) -> None:
    sb.inject("bad_url", match="dataset")
    query = 'query { dataset(filename: "v5.2/live.parquet", tournament: 8) }'
    assert gql(client, sb, query).json()["data"]["dataset"] == "http://[::1"
    assert gql(client, sb, query).json()["data"]["dataset"].startswith(sb.url)
    sb.inject("bad_url", match="submissionUploadAuth", url="ftp://x/")
    auth = 'query { submission_upload_auth(filename: "p.csv", tournament: 8) { filename url } }'
    model_id = next(m["id"] for m in sb.models if m["tournament"] == 8)
    auth = auth.replace("tournament: 8", f'tournament: 8, modelId: "{model_id}"')
    assert gql(client, sb, auth).json()["data"]["submission_upload_auth"]["url"] == "ftp://x/"
