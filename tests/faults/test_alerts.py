"""Alerts: on failure always (each failed model by name and why), on success when asked, pings
for a dead-man's switch; masked secrets; never a reason for the run to fail (issue 4: alerts)."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from numerai_autopilot.errors import AuthError
from numerai_autopilot.notify import crash_message, report_message
from numerai_autopilot.run.report import Outcome, RunReport, Status
from numerai_autopilot.tournaments import Tournament
from support.invariants import check_invariants
from support.rig import Rig


def test_success_is_notified_only_when_asked_and_something_was_submitted(
    rig: Rig, capfd: Any
) -> None:
    first = rig.cli("--notify-on-success", capfd=capfd)
    check_invariants(rig, first, exit_code=0)
    [note] = first.notifications()
    assert note["type"] == "success" and "3 model(s) submitted" in note["title"]
    assert "submitted netta_rufina: submission" in note["message"]
    idle = rig.cli("--notify-on-success", capfd=capfd)
    check_invariants(rig, idle, exit_code=0)
    assert idle.notifications() == [] and idle.pings() == ["start", "success"]


def test_report_message_names_each_failure_with_its_stage_and_masks_secrets() -> None:
    secret = "S3CRET-KEY-VALUE"
    report = RunReport(
        run_id="r1",
        outcomes=[
            Outcome("a", Tournament.CLASSIC, Status.FAILED, "upload", 7, error=f"boom {secret}"),
            Outcome("b", Tournament.SIGNALS, Status.SUBMITTED, "done", 7, submission_id="s1"),
        ],
        rounds={},
    )
    msg = report_message(report, [secret])
    assert msg.failure
    assert "FAILED a (classic, round 7) at upload: boom ***" in msg.body
    assert "submitted b: submission s1" in msg.body
    assert secret not in msg.title + msg.body


def test_crash_message_says_what_happened_and_masks_secrets() -> None:
    msg = crash_message(AuthError("bad key abcdEFGH1234"), ["abcdEFGH1234"])
    assert msg.failure and "AuthError: bad key ***" in msg.body


def test_token_parts_of_notification_urls_are_redacted_in_any_form() -> None:
    from numerai_autopilot.notify import url_secrets

    parts = url_secrets("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")
    assert {"T1JJ3T3L2", "A1BRTD4JD", "TIiajkdnlazkcOXrIdevi7FQ"} <= set(parts)
    assert "s3cr3tpw" in url_secrets("mailto://me:s3cr3tpw@example.com")
    assert "example.com" not in url_secrets("mailto://me:s3cr3tpw@example.com")


def test_notify_urls_without_apprise_refuse_to_start_in_one_line(
    rig: Rig, capfd: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slim install without the notify extra: the run must not go on and lose its alerts.
    monkeypatch.setitem(sys.modules, "apprise", None)
    res = rig.cli(capfd=capfd)
    assert res.code == 2, res.out
    lines = [ln for ln in res.out.splitlines() if "apprise is not installed" in ln]
    assert len(lines) == 1 and "numerai-autopilot[notify]" in lines[0], res.out
    assert "Traceback" not in res.out and "could not send" not in res.out
    assert res.notifications() == [] and res.pings() == ["start", "fail"]
    assert rig.sb.submissions() == []
    # The same settings without notification URLs run (and submit) as before.
    ok = rig.cli(capfd=capfd, NUMERAI_NOTIFY_URLS="")
    check_invariants(rig, ok, exit_code=0)
