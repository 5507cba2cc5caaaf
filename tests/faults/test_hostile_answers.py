"""Hostile input and hostile answers never become a duplicate or a missed round (issue 16):
names that differ only in case, nulls in identifying fields, one name for two ids, unknown
statuses, out-of-range integers and malformed URLs from the API."""

from __future__ import annotations

from typing import Any

from faults_support import Rig, check_invariants


def test_entries_differing_only_in_case_stop_the_run_before_any_upload(
    rig: Rig, capfd: Any
) -> None:
    rig.write_models(extra_toml='[[model]]\nname = "ANAS_PLATYRHYNCHOS"\nentrypoint = "x:y"\n')
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="ignore case")
    assert rig.sb.submissions() == []
