"""GraphQL conventions Numerai follows: names in both cases, keys as written, error shapes."""

from __future__ import annotations

import httpx

from numerai_autopilot.sandbox import Sandbox
from support.sandbox import round_number
from support.sandbox_http import classic_csv, create, gql, model_id, upload_auth

LATEST = """{ account { models { id name tournament
  latestSubmissions(latestNRounds: 2) { id roundNumber roundOpen roundClose roundCloseStaking
    status filename timestamp } } } }"""


def test_snake_case_names_answer_under_the_written_key(sb: Sandbox, client: httpx.Client) -> None:
    query = "{ account { api_tokens { public_id } } list_datasets(tournament: 8) }"
    data = gql(client, sb, query).json()["data"]
    assert data["account"]["api_tokens"][0]["public_id"] == sb.public_id
    assert "v5.2/live.parquet" in data["list_datasets"]


def test_aliases_name_the_response_keys(sb: Sandbox, client: httpx.Client) -> None:
    query = """{ c: rounds(tournament: 8, number: 0) { n: number }
                 s: rounds(tournament: 11, number: 0) { number } }"""
    data = gql(client, sb, query).json()["data"]
    assert data["c"] == [{"n": sb.current_round(8)["number"]}]
    assert data["s"] == [{"number": sb.current_round(11)["number"]}]


def test_string_variable_accepted_where_schema_says_id(sb: Sandbox, client: httpx.Client) -> None:
    # numerapi declares $modelId: String for ID positions; Numerai does not enforce it
    query = "query($m: String) { model(modelId: $m) { id name } }"
    mid = model_id(sb, "pica_pica")
    assert gql(client, sb, query, {"m": mid}).json()["data"]["model"] == {
        "id": mid,
        "name": "pica_pica",
    }


def test_error_shape_is_data_null_plus_messages(sb: Sandbox, client: httpx.Client) -> None:
    answer = gql(client, sb, "{ account { id } }", auth=False)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == {"account": None}
    assert body["errors"][0]["message"] == "Your session is invalid or has expired."
    assert body["errors"][0]["path"] == ["account"]


def test_unknown_field_is_a_validation_error(sb: Sandbox, client: httpx.Client) -> None:
    body = gql(client, sb, "{ nonsense }").json()
    assert body["data"] is None
    assert "nonsense" in body["errors"][0]["message"]


def test_latest_submissions_reports_every_model_in_one_request(
    sb: Sandbox, client: httpx.Client
) -> None:
    auth = upload_auth(client, sb, "anas_platyrhynchos")
    client.put(auth["url"], content=classic_csv(sb)).raise_for_status()
    created = create(client, sb, "anas_platyrhynchos", auth["filename"]).json()
    sub_id = created["data"]["createSubmission"]["id"]
    sb.reset_counters()
    models = {m["name"]: m for m in gql(client, sb, LATEST).json()["data"]["account"]["models"]}
    assert sb.counters()["requests"] == 1
    current = round_number(sb)
    done, previous = models["anas_platyrhynchos"]["latestSubmissions"]
    assert done["id"] == sub_id
    assert done["roundNumber"] == current
    # Dates, as the real API answers them: the round's open, close and staking-close days.
    opened = sb.current_round(8)
    assert done["roundOpen"] == str(opened["openTime"])[:10]
    assert done["roundClose"] == str(opened["closeTime"])[:10]
    assert done["roundCloseStaking"] == str(opened["closeStakingTime"])[:10]
    assert done["status"] == "on-time"
    assert done["filename"] == auth["filename"]
    assert done["timestamp"].endswith("Z")
    assert previous["roundNumber"] == current - 1
    assert previous["status"] == "none"
    assert models["netta_rufina"]["latestSubmissions"][0]["status"] == "none"


def test_foreign_model_id_is_refused_like_an_unknown_one(sb: Sandbox, client: httpx.Client) -> None:
    _, _, foreign = sb.add_account("other")
    query = "query($m: String) { model(modelId: $m) { name } }"
    body = gql(client, sb, query, {"m": str(foreign[0]["id"])}).json()
    assert body["errors"][0]["message"] == "Model not found"


def test_create_without_upload_is_refused(sb: Sandbox, client: httpx.Client) -> None:
    auth = upload_auth(client, sb, "anas_platyrhynchos")  # the PUT never happens
    body = create(client, sb, "anas_platyrhynchos", auth["filename"]).json()
    assert body["data"]["createSubmission"] is None
    assert body["errors"][0]["message"].startswith("Submission file not found")


def test_pipeline_status_and_pickle_catalogues(sb: Sandbox, client: httpx.Client) -> None:
    query = """{ pipelineStatus(tournament: "classic", date: "2026-07-14") { isScoringDay
      startedAt } computePickleDataVersions { name id } computePickleDockerImages { name } }"""
    data = gql(client, sb, query).json()["data"]
    assert data["pipelineStatus"] == {"isScoringDay": True, "startedAt": "2026-07-14T12:00:00Z"}
    assert "v5.2" in {v["name"] for v in data["computePickleDataVersions"]}
    assert data["computePickleDockerImages"]
