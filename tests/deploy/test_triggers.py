"""The recommended slots cover every round window, and each platform's trigger carries them."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from numerai_autopilot.deploy.slots import RECOMMENDED, Slots
from numerai_autopilot.deploy.triggers import KINDS, render_trigger
from numerai_autopilot.errors import ConfigError
from support.cron import fire_times, matches

CRON = RECOMMENDED.cron()
# A week with Tue..Sat rounds: Monday 2026-07-13 .. Monday 2026-07-20 (UTC).
WEEK = datetime(2026, 7, 13, tzinfo=UTC)


def _rounds() -> list[tuple[datetime, datetime]]:
    """The documented windows: Tue-Fri 12:00-13:00, Saturday 12:00 to Sunday 14:00."""
    out = []
    for day in range(1, 6):  # Tue..Sat
        opens = WEEK + timedelta(days=day, hours=12)
        closes = opens + (timedelta(days=1, hours=2) if day == 5 else timedelta(hours=1))
        out.append((opens, closes))
    return out


def test_every_round_window_gets_at_least_three_slots() -> None:
    for opens, closes in _rounds():
        slots = fire_times(CRON, opens, closes)
        assert len(slots) >= 3, (opens, slots)
        # The first slot comes soon after the open, so a round is submitted within minutes.
        assert slots[0] - opens <= timedelta(minutes=5)


@pytest.mark.parametrize("open_hour", [12, 13])
def test_a_minimal_one_hour_window_opening_later_is_still_covered(open_hour: int) -> None:
    # Numerai only promises: open no earlier than 12:00 UTC, at least an hour (13:00 in older docs).
    for day in range(1, 6):
        opens = WEEK + timedelta(days=day, hours=open_hour)
        assert len(fire_times(CRON, opens, opens + timedelta(hours=1))) >= 3


def test_the_saturday_round_gets_sunday_slots_before_its_close() -> None:
    sunday = WEEK + timedelta(days=6)
    assert fire_times(CRON, sunday + timedelta(hours=12), sunday + timedelta(hours=14))


def test_no_slot_on_monday_or_outside_the_window() -> None:
    week_fires = fire_times(CRON, WEEK, WEEK + timedelta(days=7))
    assert len(week_fires) == RECOMMENDED.per_week == 72
    assert all(t.weekday() != 0 and 12 <= t.hour <= 14 for t in week_fires)


def test_cron_matcher_agrees_with_systemd_calendar() -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    out = subprocess.run(
        [
            exe,
            "calendar",
            "--iterations=13",
            "--base-time=2026-07-14 11:00:00 UTC",
            RECOMMENDED.on_calendar(),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    got = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        for m in re.findall(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", out)
    ]
    want = fire_times(
        CRON, datetime(2026, 7, 14, 11, tzinfo=UTC), datetime(2026, 7, 16, tzinfo=UTC)
    )
    assert got == want[:13]


@pytest.mark.parametrize("kind", KINDS)
def test_each_trigger_carries_the_slots_and_says_why(kind: str) -> None:
    text = render_trigger(kind)
    assert CRON in text or RECOMMENDED.on_calendar() in text
    prose = " ".join(text.replace("#", " ").split())
    assert "12:00 UTC" in prose
    assert "only what is missing" in prose
    assert re.search(r"\b3\b.*no round", text)


def test_systemd_service_treats_no_round_and_lock_held_as_success() -> None:
    assert "SuccessExitStatus=3 4" in render_trigger("systemd")


def test_cron_line_runs_under_flock_reporting_a_held_lock_as_4() -> None:
    line = next(
        ln for ln in render_trigger("cron").splitlines() if ln and not ln.startswith(("#", "CRON_"))
    )
    assert line.startswith(CRON + " flock -n -E 4 ")
    assert line.rstrip().endswith("2>&1")


def test_unknown_kind_is_a_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="systemd, cron, aca, k8s"):
        render_trigger("windows-task")


def test_custom_slots_render_in_both_syntaxes() -> None:
    s = Slots(minutes=(0, 30), first_hour=13, last_hour=13, weekdays=(1, 2, 3, 4, 5, 6))
    assert s.cron() == "0,30 13 * * 1,2,3,4,5,6"
    assert s.on_calendar() == "Mon..Sat *-*-* 13:00,30:00 UTC"
    assert matches(s.cron(), datetime(2026, 7, 13, 13, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    "kwargs", [{"minutes": (60,)}, {"first_hour": 15, "last_hour": 14}, {"weekdays": (7,)}]
)
def test_impossible_slots_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        Slots(**kwargs)
