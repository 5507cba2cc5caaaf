"""The round clock: Numerai's numbering and windows, admin control, between-round answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from numerai_autopilot.clock import ManualClock, parse_time
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.rounds import RoundClock, round_number_for_day, scheduled_round
from support.sandbox import round_number
from support.sandbox_http import ROUND_QUERY, classic_csv, create, gql, upload_auth


@pytest.mark.parametrize(
    ("day", "number"),
    [
        (date(2022, 10, 25), 340),  # the anchor Tuesday
        (date(2022, 10, 29), 344),  # Saturday
        (date(2022, 10, 30), 345),  # Sunday: next Tuesday's round
        (date(2022, 11, 1), 345),
        (date(2022, 11, 8), 350),
    ],
)
def test_classic_numbering_one_round_per_tue_sat_day(day: date, number: int) -> None:
    assert round_number_for_day(8, day) == number


def test_schedule_windows_tue_fri_one_hour_saturday_until_sunday() -> None:
    friday = scheduled_round(8, 343)
    assert friday.open_time == datetime(2022, 10, 28, 12, tzinfo=UTC)
    assert friday.close_staking_time == datetime(2022, 10, 28, 13, tzinfo=UTC)
    saturday = scheduled_round(8, 344)
    assert saturday.close_time == datetime(2022, 10, 30, 14, tzinfo=UTC)


def test_schedule_mode_follows_the_clock() -> None:
    clock = ManualClock(datetime(2026, 7, 14, 12, 30, tzinfo=UTC))  # a Tuesday, window open
    rounds = RoundClock(clock, "schedule")
    current = rounds.current(8)
    assert current is not None
    assert current.number == round_number_for_day(8, date(2026, 7, 14))
    clock.set(datetime(2026, 7, 14, 13, 30, tzinfo=UTC))
    assert rounds.current(8) is None
    assert rounds.latest(8).number == current.number
    clock.set(datetime(2026, 7, 15, 11, 0, tzinfo=UTC))  # before Wednesday's window
    assert rounds.latest(8).number == current.number


def test_now_mode_has_a_round_open_in_every_tournament(sb: Sandbox) -> None:
    for t in (8, 11, 12):
        rnd = sb.current_round(t)
        assert rnd["open"] is True
        close = parse_time(str(rnd["closeStakingTime"]))
        assert close is not None
        assert timedelta(minutes=50) < close - datetime.now(UTC) <= timedelta(hours=1)


def test_open_round_brings_a_new_number_and_new_live_ids(sb: Sandbox) -> None:
    before, ids_before = round_number(sb), sb.live_ids(8)
    sb.open_round(8, duration=60)
    assert round_number(sb) == before + 1
    assert sb.current_round(8)["open"] is True
    assert set(sb.live_ids(8)).isdisjoint(ids_before)
    assert sb.current_round(11)["number"] != sb.current_round(8)["number"]


@pytest.mark.parametrize(
    ("mode", "expected"), [("null", [None]), ("last", "round"), ("error", "error")]
)
def test_between_rounds_answer_is_selectable(
    sb: Sandbox, client: httpx.Client, mode: str, expected: object
) -> None:
    number = sb.current_round(8)["number"]
    sb.close_round(8)
    response = client.post("/_sandbox/rounds/between", json={"mode": mode})
    assert response.json() == {"between_rounds": mode}
    body = gql(client, sb, ROUND_QUERY, {"t": 8}).json()
    if expected == "error":
        assert body["errors"][0]["message"] == "Current round not open for submissions"
    elif expected == "round":
        assert body["data"]["rounds"][0]["number"] == number
    else:
        assert body["data"]["rounds"] == expected


def test_submission_before_open_is_queued(sb: Sandbox, client: httpx.Client) -> None:
    sb.open_round(8, open_in=600)
    auth = upload_auth(client, sb, "anas_platyrhynchos")
    client.put(auth["url"], content=classic_csv(sb)).raise_for_status()
    create(client, sb, "anas_platyrhynchos", auth["filename"]).raise_for_status()
    assert [s["status"] for s in sb.submissions()] == ["queued"]
    assert sb.submissions()[0]["round"] == sb.current_round(8)["number"]


def test_admin_rounds_open_and_close_over_http(sb: Sandbox, client: httpx.Client) -> None:
    closed = client.post("/_sandbox/rounds/close", json={"tournament": 12}).json()
    assert closed["12"]["open"] is False
    assert closed["8"]["open"] is True
    opened = client.post("/_sandbox/rounds/open", json={"tournament": 12, "duration": 30}).json()
    assert opened["12"]["open"] is True
    assert opened["12"]["number"] == closed["12"]["number"] + 1


def test_shifted_clock_expires_presigned_urls(sandbox_data: Path) -> None:
    clock = ManualClock(datetime.now(UTC))
    with Sandbox(time_source=clock, url_ttl=60, cache_dir=sandbox_data) as box:
        c = httpx.Client(base_url=box.url, timeout=10)
        query = '{ dataset(filename: "v5.2/features.json", tournament: 8) }'
        url = gql(c, box, query).json()["data"]["dataset"]
        assert c.head(url).status_code == 200
        clock.advance(61)
        expired = c.get(url)
        assert expired.status_code == 403
        assert "expired" in expired.text
        assert c.get(url.replace("X-Signature=", "X-Signature=0")).status_code == 403
        c.close()
