"""Every fault kind, armed through the Python or the admin API, and what a client observes."""

from __future__ import annotations

import time

import httpx
import pytest

from numerai_autopilot.sandbox import Sandbox
from support.sandbox_http import (
    ROUND_QUERY,
    classic_csv,
    create,
    gql,
    upload_auth,
)


def dataset_url(client: httpx.Client, sb: Sandbox, name: str = "v5.2/live.parquet") -> str:
    query = "query($f: String!) { dataset(filename: $f, tournament: 8) }"
    url: str = gql(client, sb, query, {"f": name}).json()["data"]["dataset"]
    return url


def read_into(answer: httpx.Response, received: bytearray) -> None:
    for chunk in answer.iter_bytes():
        received += chunk


def test_status_fault_answers_code_with_retry_after_then_recovers(
    sb: Sandbox, client: httpx.Client
) -> None:
    sb.inject("status", code=503, retry_after=7, count=2)
    for _ in range(2):
        failed = gql(client, sb, ROUND_QUERY, {"t": 8})
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "7"
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).status_code == 200


def test_status_fault_4xx(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("status", code=429)
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).status_code == 429


def test_fault_match_limits_it_to_one_operation(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("status", code=500, match="account")
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).status_code == 200
    assert gql(client, sb, "{ account { id } }").status_code == 500
    assert gql(client, sb, "{ account { id } }").status_code == 200


def test_after_commit_stores_submission_but_answers_500(sb: Sandbox, client: httpx.Client) -> None:
    auth = upload_auth(client, sb, "anas_platyrhynchos")
    assert client.put(auth["url"], content=classic_csv(sb)).status_code == 200
    sb.inject("after_commit", match="createSubmission")
    answer = create(client, sb, "anas_platyrhynchos", auth["filename"])
    assert answer.status_code == 500
    assert len(sb.submissions("anas_platyrhynchos")) == 1  # committed: a blind retry duplicates
    create(client, sb, "anas_platyrhynchos", auth["filename"]).raise_for_status()
    assert len(sb.submissions("anas_platyrhynchos")) == 2


def test_hang_never_answers_within_its_time(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("hang", seconds=3)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.post("/", json={"query": ROUND_QUERY, "variables": {"t": 8}}, timeout=0.5)
    assert time.monotonic() - started < 2


def test_slow_answers_after_delay(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("slow", seconds=0.4)
    started = time.monotonic()
    answer = gql(client, sb, ROUND_QUERY, {"t": 8})
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_non_json_body(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("non_json")
    answer = gql(client, sb, ROUND_QUERY, {"t": 8})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError, match="Expecting value"):
        answer.json()


def test_drop_closes_without_response(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        gql(client, sb, ROUND_QUERY, {"t": 8})


def test_truncate_sends_full_length_but_cuts_the_body(sb: Sandbox, client: httpx.Client) -> None:
    url = dataset_url(client, sb)
    full = client.get(url).content
    sb.inject("truncate", bytes=500)
    received = bytearray()
    with client.stream("GET", url) as answer:
        assert answer.headers["Content-Length"] == str(len(full))
        with pytest.raises(httpx.RemoteProtocolError):
            read_into(answer, received)
    assert bytes(received) == full[:500]
    assert sb.counters()["downloads"] == {"v5.2/live.parquet": 1}  # the cut one is not complete


def test_range_is_honoured_then_ignored_by_fault(sb: Sandbox, client: httpx.Client) -> None:
    url = dataset_url(client, sb)
    full = client.get(url).content
    ranged = client.get(url, headers={"Range": "bytes=100-"})
    assert ranged.status_code == 206
    assert ranged.headers["Content-Range"] == f"bytes 100-{len(full) - 1}/{len(full)}"
    assert ranged.content == full[100:]
    sb.inject("ignore_range")
    ignored = client.get(url, headers={"Range": "bytes=100-"})
    assert ignored.status_code == 200
    assert ignored.content == full


def test_upload_fail_answers_code_and_create_then_refuses(
    sb: Sandbox, client: httpx.Client
) -> None:
    auth = upload_auth(client, sb, "anas_platyrhynchos")
    sb.inject("upload_fail", code=503)
    assert client.put(auth["url"], content=classic_csv(sb)).status_code == 503
    refused = create(client, sb, "anas_platyrhynchos", auth["filename"]).json()
    assert refused["data"]["createSubmission"] is None
    assert "Submission file not found" in refused["errors"][0]["message"]
    assert sb.counters()["uploads"] == 0


def test_close_round_after_the_matching_request(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("close_round", match="rounds", tournament=8)
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).json()["data"]["rounds"][0] is not None
    assert sb.current_round(8)["open"] is False
    assert sb.current_round(11)["open"] is True


def test_naive_datetimes_drop_the_offset(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("naive_datetimes")
    drifted = gql(client, sb, ROUND_QUERY, {"t": 8}).json()["data"]["rounds"][0]
    normal = gql(client, sb, ROUND_QUERY, {"t": 8}).json()["data"]["rounds"][0]
    assert normal["openTime"].endswith("Z")
    assert drifted["openTime"] == normal["openTime"][:-1]


def test_missing_fields_drop_keys_from_the_answer(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("missing_fields", fields=["closeStakingTime"])
    drifted = gql(client, sb, ROUND_QUERY, {"t": 8}).json()["data"]["rounds"][0]
    assert set(drifted) == {"number", "openTime"}


def test_missing_fields_can_strip_error_messages(sb: Sandbox, client: httpx.Client) -> None:
    sb.inject("missing_fields", messages=False)
    answer = gql(client, sb, "{ account { id } }", auth=False).json()
    assert answer["errors"]
    assert "message" not in answer["errors"][0]


def test_bandwidth_cap_throttles_downloads(sb: Sandbox, client: httpx.Client) -> None:
    url = dataset_url(client, sb)
    size = len(client.get(url).content)
    sb.bandwidth = size * 2  # half a second for the file
    started = time.monotonic()
    assert len(client.get(url).content) == size
    assert time.monotonic() - started >= 0.45
    sb.bandwidth = None


def test_faults_armed_and_cleared_over_admin_http(sb: Sandbox, client: httpx.Client) -> None:
    armed = client.post("/_sandbox/faults", json={"kind": "status", "code": 502, "count": 3})
    assert armed.json() == [{"kind": "status", "count": 3, "match": None, "code": 502}]
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).status_code == 502
    assert client.delete("/_sandbox/faults").json() == []
    assert gql(client, sb, ROUND_QUERY, {"t": 8}).status_code == 200
    unknown = client.post("/_sandbox/faults", json={"kind": "nonsense"})
    assert unknown.status_code == 400
    assert "unknown fault kind" in unknown.json()["error"]


def test_counters_count_operations_bytes_and_downloads(sb: Sandbox, client: httpx.Client) -> None:
    sb.reset_counters()
    url = dataset_url(client, sb)
    body = client.get(url).content
    counters = client.get("/_sandbox/counters").json()
    assert counters["requests"] == 2
    assert counters["graphql"] == {"dataset": 1}
    assert (
        counters["http"]["GET /files/8/{}/v5.2/live.parquet".format(sb.current_round(8)["number"])]
        == 1
    )
    assert counters["bytes_served"] >= len(body)
    assert counters["downloads"] == {"v5.2/live.parquet": 1}
