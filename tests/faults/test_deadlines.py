"""The run knows each round's close: retries stop in time to report, a model ready after the
close follows the late policy, an early trigger waits for the round, and a skewed local clock
does not decide for the server (issue 4: deadline awareness)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from numerai_autopilot.clock import ManualClock, SystemClock
from numerai_autopilot.run.report import Outcome
from support.invariants import check_invariants
from support.receiver import Receiver
from support.rig import CLASSIC, Rig
from support.sandbox import sandbox


class SkewedClock(SystemClock):
    """This machine's clock, off by ``seconds`` (a VM resumed from sleep, no NTP)."""

    def __init__(self, seconds: float) -> None:
        self.skew = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return super().now() + self.skew


class ServerOnClock(httpx.BaseTransport):
    """The real transport, each response's ``Date`` stamped from ``clock``: the sandbox's HTTP
    server dates responses in real time whatever its time_source, and the run trusts the
    server's Date over a clock more than 5 s off, so without this a moved clock moves back."""

    def __init__(self, clock: ManualClock) -> None:
        self.inner, self.clock = httpx.HTTPTransport(), clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        resp.headers["Date"] = format_datetime(self.clock.now(), usegmt=True)
        return resp

    def close(self) -> None:
        self.inner.close()


def test_model_ready_after_the_close_is_not_sent_late_by_default_then_late_submit_sends_it(
    sandbox_data: Path, tmp_path: Path, receiver: Receiver, capfd: pytest.CaptureFixture[str]
) -> None:
    # The run and the sandbox share a clock that moves only when told: the round closes
    # exactly when the last model has predicted, and no test time is spent waiting for it.
    clock = ManualClock(datetime.now(UTC))
    planned: set[str] = set()
    finished: set[str] = set()
    changed = threading.Condition()

    def close_when_the_last_predicts(event: str, o: Outcome) -> None:
        with changed:
            if event == "planned":
                planned.add(o.name)
            elif event == "done":
                finished.add(o.name)
                changed.notify_all()
        if event == "predicted" and o.name == "corvus_corone":
            # Uploads run on a background thread: the others' must be through first, or the
            # close would overtake them (fast workers made that happen every time).
            with changed:
                changed.wait_for(lambda: planned - {o.name} <= finished, timeout=60)
            clock.advance(601)

    with sandbox(sandbox_data, tmp_path / "sb", time_source=clock) as sb:
        # One worker: the models predict in their file's order, corvus_corone last.
        rig = Rig(sb, tmp_path, receiver, extra_env={"NUMERAI_WORKERS": "1"})
        rig.write_models()
        sb.open_round(duration=600)
        first = rig.lib(
            capfd,
            clock=clock,
            transport=ServerOnClock(clock),
            on_event=close_when_the_last_predicts,
        )
        check_invariants(rig, first, exit_code=1, failed={"corvus_corone": "not submitted late"})
        second = rig.lib(capfd, clock=clock, transport=ServerOnClock(clock), late="submit")
        check_invariants(rig, second, exit_code=0, outputs=[first.out])
        late = second.outcomes()["corvus_corone"]
        assert late["status"] == "submitted" and late["late"] is True
        assert [s["status"] for s in sb.submissions("corvus_corone")] == ["late"]


def test_retries_stop_before_the_close_leaving_time_to_report(rig: Rig, capfd: Any) -> None:
    rig.sb.open_round(duration=75)  # retries may not wait past 75 - 60 s from now
    rig.sb.inject("status", code=429, retry_after=30, count=1, match="createSubmission")
    t0 = time.monotonic()
    res = rig.cli(capfd=capfd)
    first = next(o for o in res.outcomes().values() if o["status"] == "failed")
    check_invariants(rig, res, exit_code=1, failed={first["name"]: "the round closes soon"})
    assert time.monotonic() - t0 < 30  # gave up at once instead of waiting Retry-After
    # With time left the same fault is waited out (test_api_faults: Retry-After honoured).


def test_wait_open_waits_for_a_round_announced_to_open(rig: Rig, capfd: Any) -> None:
    rig.sb.close_round()
    rig.sb.open_round(open_in=1.5)
    res = rig.cli("--wait-open", "1m", capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert "no round open yet" in res.out
    assert {s["status"] for s in rig.sb.submissions()} == {"on-time"}


def test_wait_open_gives_up_after_its_duration_with_no_round_exit_3(rig: Rig, capfd: Any) -> None:
    rig.sb.close_round()
    rig.sb.set_between_rounds("error")
    t0 = time.monotonic()
    res = rig.cli("--wait-open", "1", capfd=capfd)
    assert time.monotonic() - t0 < 20
    assert res.code == 3
    assert rig.sb.submissions() == []
    assert res.pings() == ["start", "success"] and res.notifications() == []


def test_local_clock_two_hours_fast_trusts_the_servers_time(rig: Rig, capfd: Any) -> None:
    res = rig.lib(capfd, clock=SkewedClock(+7200))
    check_invariants(rig, res, exit_code=0)
    assert "ahead of the API server's" in res.out  # 7200 s, give or take the Date's second


def test_local_clock_two_hours_slow_trusts_the_servers_time(rig: Rig, capfd: Any) -> None:
    res = rig.lib(capfd, clock=SkewedClock(-7200))
    check_invariants(rig, res, exit_code=0)
    assert "behind the API server's" in res.out


def test_cheapest_models_go_first_by_their_past_predict_time(rig: Rig, capfd: Any) -> None:
    rig.knobs(sleep={"anas_platyrhynchos": 1.5})
    first = rig.cli(capfd=capfd)
    assert first.code == 0
    rig.sb.open_round()  # a new round: all due again; the ledger remembers who was slow
    rig.knobs()
    res = rig.cli(capfd=capfd, NUMERAI_WORKERS="1")
    check_invariants(rig, res, exit_code=0, outputs=[first.out])
    order = [s["model_name"] for s in rig.sb.submissions() if s["round"] == rig.round_number()]
    assert order.index("anas_platyrhynchos") == len(CLASSIC) - 1, order
