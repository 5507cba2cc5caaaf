"""File server details (HEAD, 416) and the admin API's account and inspection routes."""

from __future__ import annotations

import httpx

from numerai_autopilot.sandbox import Sandbox
from support.sandbox_http import classic_csv, create, gql, upload_auth


def test_head_gives_length_without_body_and_bad_range_is_416(
    sb: Sandbox, client: httpx.Client
) -> None:
    query = '{ dataset(filename: "v5.2/live.parquet", tournament: 8) }'
    url = gql(client, sb, query).json()["data"]["dataset"]
    size = len(client.get(url).content)
    head = client.head(url)
    assert head.headers["Content-Length"] == str(size)
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.content == b""
    beyond = client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


def test_admin_adds_models_keys_accounts(sb: Sandbox, client: httpx.Client) -> None:
    new = client.post("/_sandbox/models", json={"name": "mergus_merganser", "tournament": 8})
    assert {"id": new.json()["id"], "name": "mergus_merganser", "tournament": 8} in sb.models
    key = client.post("/_sandbox/keys", json={"scopes": ["read_user_info"]}).json()
    headers = {"Authorization": f"Token {key['public_id']}${key['secret_key']}"}
    body = client.post("/", json={"query": "{ submissions { id } }"}, headers=headers).json()
    assert body["errors"][0]["message"] == "Insufficient permission for read_submission_info"
    other = client.post("/_sandbox/accounts", json={"name": "rival"}).json()
    assert {m["tournament"] for m in other["models"]} == {8, 11, 12}


def test_admin_state_and_submissions(sb: Sandbox, client: httpx.Client) -> None:
    auth = upload_auth(client, sb, "anas_platyrhynchos")
    client.put(auth["url"], content=classic_csv(sb)).raise_for_status()
    create(client, sb, "anas_platyrhynchos", auth["filename"]).raise_for_status()
    listed = client.get("/_sandbox/submissions", params={"model": "anas_platyrhynchos"}).json()
    assert [s["filename"] for s in listed] == [auth["filename"]]
    state = client.get("/_sandbox/state").json()
    assert state["public_id"] == sb.public_id
    assert "secret_key" not in state
    assert state["rounds"]["8"]["open"] is True
    assert client.get("/_sandbox/nowhere").status_code == 404
