"""The scheduler against the sandbox on a jump clock: hours of schedule lived in seconds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from numerai_autopilot.clock import ManualClock, parse_time
from numerai_autopilot.run.report import RunReport
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.rounds import BetweenMode
from numerai_autopilot.schedule import Backoff, Scheduler
from support.clocks import JumpClock
from support.rig import settings_for
from support.schedule_models import flaky
from support.schedule_state import schedule_state
from support.workshop import C, Workshop


def _models(sb: Sandbox, base: Path, *names: str) -> Workshop:
    w = Workshop(sb, base / "models", base / "train-cache")
    for n in names:
        w.function(n)
    return w


def _per_model(sb: Sandbox, names: tuple[str, ...]) -> dict[str, list[dict[str, object]]]:
    return {n: sb.submissions(n) for n in names}


def test_sleeps_until_the_announced_open_then_runs_once(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    names = ("sch_open_a", "sch_open_b")
    w = _models(jsb, tmp_path, *names)
    w.write_toml()
    w.close()
    jsb.close_round(int(C))
    jsb.open_round(int(C), open_in=7200, duration=3600)  # announced two hours ahead
    opens = parse_time(str(jsb.current_round(int(C))["openTime"]))
    assert opens is not None
    ran_at: list[datetime] = []
    sched = Scheduler(
        settings_for(jsb, tmp_path),
        clock=jump,
        poll=300,
        once_per_round=True,
        on_report=lambda _r: ran_at.append(jump.now()),
    )
    summary = sched.run(max_ticks=3)
    # The first look saw the round announced; it slept towards its open (looking again once
    # after an hour, the longest sleep) and ran it: no polling while the open time was known.
    assert summary.runs == 1 and summary.round_requests == 3
    assert jump.slept == pytest.approx(7200, abs=5)
    assert timedelta(0) <= ran_at[0] - opens < timedelta(seconds=60)
    subs = _per_model(jsb, names)
    for n in names:
        (sub,) = subs[n]
        assert sub["round"] == jsb.current_round(int(C))["number"]
        assert sub["status"] == "on-time"
        inserted = sub["inserted_at"]
        assert isinstance(inserted, datetime) and inserted >= opens
    # After the run: sleeps until the close (once per round), then polls.
    summary = sched.run(max_ticks=5)
    sched.close()
    assert summary.runs == 1 and summary.round_requests == 5
    assert jump.slept == pytest.approx(7200 + 3600, abs=30)  # the run itself took real time
    state = schedule_state(tmp_path / "data")
    assert state["rounds"]["classic"]["status"] == "done"
    assert state["rounds"]["classic"]["attempts"] == 1


def test_retries_a_failed_model_before_the_close(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    w = _models(jsb, tmp_path, "sch_steady")
    flaky(w, "sch_flaky", tmp_path / "fail-once")
    w.write_toml()
    w.close()
    jsb.close_round(int(C))
    jsb.open_round(int(C), open_in=60, duration=3600)
    reports: list[RunReport] = []
    sched = Scheduler(
        settings_for(jsb, tmp_path),
        clock=jump,
        poll=300,
        once_per_round=True,
        backoff=Backoff(first=120, attempts=4),
        on_report=reports.append,
    )
    summary = sched.run(max_ticks=3)
    sched.close()
    assert summary.runs == 2
    first, second = reports
    assert [o.name for o in first.failed] == ["sch_flaky"]
    assert "failing its first attempt" in (first.failed[0].error or "")
    assert not second.failed
    assert {o.name: str(o.status) for o in second.outcomes} == {
        "sch_steady": "already",
        "sch_flaky": "submitted",
    }
    for n in ("sch_steady", "sch_flaky"):
        (sub,) = jsb.submissions(n)
        assert sub["status"] == "on-time"  # the retry landed before the close
    state = schedule_state(tmp_path / "data")
    assert state["rounds"]["classic"] | {"updated": None} == {
        "round": jsb.current_round(int(C))["number"],
        "status": "done",
        "attempts": 2,
        "updated": None,
    }


def test_a_model_that_keeps_failing_is_given_up_before_the_deadline(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    w = _models(jsb, tmp_path)
    w.add("sch_broken", C, 'artifact = "missing.pkl"\nformat = "function"\n', None)
    w.write_toml()
    w.close()
    jsb.close_round(int(C))
    jsb.open_round(int(C), open_in=0, duration=900)
    deadline = parse_time(str(jsb.current_round(int(C))["closeStakingTime"]))
    assert deadline is not None
    starts: list[datetime] = []
    sched = Scheduler(
        settings_for(jsb, tmp_path),
        clock=jump,
        poll=300,
        backoff=Backoff(first=120, factor=2, attempts=10, margin=30, jitter=0),
        on_report=lambda _r: starts.append(jump.now()),
    )
    summary = sched.run(max_ticks=2)
    sched.close()
    # Runs at 0, 120, 360 and 840 s (waits of 120, 240, 480); the next wait (960 s) would
    # end past the 900 s window.
    assert summary.runs == 4
    assert all(t < deadline for t in starts)
    assert jsb.submissions("sch_broken") == []
    state = schedule_state(tmp_path / "data")
    assert state["rounds"]["classic"]["status"] == "gave-up"


@pytest.mark.parametrize("between", ["error", "null", "last"])
def test_does_nothing_without_a_round_and_polls_at_a_bounded_rate(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path, between: BetweenMode
) -> None:
    w = _models(jsb, tmp_path, "sch_idle")
    w.write_toml()
    w.close()
    jsb.close_round()
    jsb.set_between_rounds(between)
    jsb.reset_counters()
    sched = Scheduler(settings_for(jsb, tmp_path), clock=jump, poll=600)
    summary = sched.run(max_ticks=12)
    assert summary.runs == 0
    assert jsb.submissions("sch_idle") == []
    # A day without a round: one `rounds` request per look, one look per poll interval.
    graphql = jsb.counters()["graphql"]
    assert graphql.get("rounds") == 12 and set(graphql) == {"rounds"}
    assert jump.slept == pytest.approx(11 * 600)
    # The round opens: the next look runs it.
    jsb.open_round(int(C), duration=3600)
    summary = sched.run(max_ticks=13)
    sched.close()
    assert summary.runs == 1
    assert len(jsb.submissions("sch_idle")) == 1


def test_a_restarted_scheduler_does_not_run_a_handled_round_again(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    w = _models(jsb, tmp_path, "sch_once")
    w.write_toml()
    w.close()
    settings = settings_for(jsb, tmp_path)
    first = Scheduler(settings, clock=jump, poll=60, once_per_round=True)
    assert first.run(max_runs=1).runs == 1
    first.close()
    jsb.reset_counters()
    again = Scheduler(settings, clock=jump, poll=60, once_per_round=True)
    wait = again.tick()
    again.close()
    # The state file says the round is done: one `rounds` request, no run, and sleep until
    # the round closes.
    assert again.summary.runs == 0
    assert jsb.counters()["graphql"] == {"rounds": 1}
    closes = parse_time(str(jsb.current_round(int(C))["closeStakingTime"]))
    assert closes is not None
    assert wait == pytest.approx((closes - jump.now()).total_seconds(), abs=5)
    assert len(jsb.submissions("sch_once")) == 1


def test_rechecks_an_open_round_and_runs_a_model_added_mid_round(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    w = _models(jsb, tmp_path, "sch_first")
    w.write_toml()
    settings = settings_for(jsb, tmp_path)
    sched = Scheduler(settings, clock=jump, poll=120)
    assert sched.tick() == 120 and sched.summary.runs == 1
    jsb.reset_counters()
    assert sched.tick() == 120 and sched.summary.runs == 1
    # A re-check of a handled round costs one rounds and one status request.
    assert sum(jsb.counters()["graphql"].values()) <= 3
    w.function("sch_added")
    w.write_toml()
    w.close()
    sched.tick()
    sched.close()
    assert sched.summary.runs == 2
    assert len(jsb.submissions("sch_first")) == 1
    assert len(jsb.submissions("sch_added")) == 1


def test_a_legacy_state_file_is_moved_into_the_ledger_once(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    """schedule.json of an older version: its rounds go into the ledger, the file is renamed."""
    w = _models(jsb, tmp_path, "sch_legacy")
    w.write_toml()
    w.close()
    rnd = int(str(jsb.current_round(int(C))["number"]))
    legacy = tmp_path / "data" / "schedule.json"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_text(json.dumps({"rounds": {"classic": {"round": rnd, "status": "done"}}}))
    sched = Scheduler(settings_for(jsb, tmp_path), clock=jump, poll=60, once_per_round=True)
    assert sched.state.get(C, rnd) is not None and not legacy.exists()
    assert (tmp_path / "data" / "schedule.json.migrated").exists()
    sched.close()
    assert schedule_state(tmp_path / "data")["rounds"]["classic"]["status"] == "done"


def test_a_corrupt_legacy_state_file_is_set_aside(
    jsb: Sandbox, jump: JumpClock, tmp_path: Path
) -> None:
    w = _models(jsb, tmp_path, "sch_corrupt")
    w.write_toml()
    w.close()
    state = tmp_path / "data" / "schedule.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("{not json")
    sched = Scheduler(settings_for(jsb, tmp_path), clock=jump, poll=60, once_per_round=True)
    assert sched.run(max_runs=1).runs == 1
    sched.close()
    assert (tmp_path / "data" / "schedule.json.migrated").read_text() == "{not json"
    assert schedule_state(tmp_path / "data")["rounds"]["classic"]["status"] == "done"
    assert len(jsb.submissions("sch_corrupt")) == 1


def test_backoff_delays_grow_to_the_cap() -> None:
    b = Backoff(first=10, factor=3, cap=100, jitter=0)
    assert [b.delay(n) for n in (1, 2, 3, 4)] == [10, 30, 90, 100]
    jittered = Backoff(first=10, jitter=0.5)
    assert all(5 <= jittered.delay(1) <= 15 for _ in range(50))
    assert timedelta(seconds=b.delay(9)) == timedelta(seconds=100)


def test_the_schedulers_own_client_runs_on_its_clock(sb: Sandbox, tmp_path: Path) -> None:
    """A retry wait of the client the scheduler builds is a sleep of the scheduler's clock."""
    clock = ManualClock(datetime.now(UTC))
    sched = Scheduler(settings_for(sb, tmp_path), clock=clock)
    sb.inject("status", code=503, count=1, match="rounds")
    try:
        assert sched.client.current_round(C) is not None
    finally:
        sched.close()
    assert len(clock.sleeps) == 1 and clock.sleeps[0] > 0
