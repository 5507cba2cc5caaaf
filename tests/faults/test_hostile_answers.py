"""Hostile input and hostile answers never become a duplicate or a missed round (issue 16):
names that differ only in case, nulls in identifying fields, one name for two ids, unknown
statuses, out-of-range integers and malformed URLs from the API."""

from __future__ import annotations

from typing import Any

from support.invariants import check_invariants
from support.rig import Rig


def test_entries_differing_only_in_case_stop_the_run_before_any_upload(
    rig: Rig, capfd: Any
) -> None:
    rig.write_models(extra_toml='[[model]]\nname = "ANAS_PLATYRHYNCHOS"\nentrypoint = "x:y"\n')
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=2, crashed="ignore case")
    assert rig.sb.submissions() == []


def test_null_round_numbers_never_resubmit_across_runs(rig: Rig, capfd: Any) -> None:
    check_invariants(rig, rig.cli(capfd=capfd), exit_code=0)
    # Issue 16: 3 runs with `roundNumber: null` made 3 submissions of every model.
    for _ in range(2):
        rig.sb.inject("null_fields", count=len(rig.models), fields=["roundNumber"])
        res = rig.cli(capfd=capfd)
        check_invariants(rig, res, exit_code=0)
        assert {o["status"] for o in res.outcomes().values()} == {"already"}


def test_a_doubt_the_second_look_cannot_settle_fails_that_model_only(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("null_fields", model="netta_rufina", fields=["roundNumber", "status"])
    # Exactly the second look's 4 attempts ("model" also matches paths of benchmark files).
    rig.sb.inject("status", code=500, count=4, match="model")
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig, res, exit_code=1, failed={"netta_rufina": "cannot say whether 'netta_rufina'"}
    )
    assert "roundNumber is null" in res.outcomes()["netta_rufina"]["error"]
    rig.sb.clear_faults()
    check_invariants(rig, rig.cli(capfd=capfd), exit_code=0)  # the next run converges


def test_one_name_for_two_ids_fails_those_models_naming_the_conflict(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("duplicate_name", count=10, name="anas_platyrhynchos", other="netta_rufina")
    res = rig.cli(capfd=capfd)
    check_invariants(
        rig,
        res,
        exit_code=1,
        failed={"anas_platyrhynchos": "2 times, with ids", "netta_rufina": "under several names"},
    )
    assert rig.sb.submissions("netta_rufina") == rig.sb.submissions("anas_platyrhynchos") == []


def test_an_unknown_status_is_submitted_once_after_a_second_look(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("unknown_status", model="corvus_corone", status="rejected", count=5)
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert "'rejected'" in res.out
    # Now corvus has a selected submission: the same odd status no longer hides it.
    rig.sb.inject("unknown_status", model="corvus_corone", status="rejected", count=5)
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert res.outcomes()["corvus_corone"]["status"] == "already"


def test_a_huge_round_number_stops_the_run_with_one_clear_line(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("bad_integer", count=10, match="rounds", value=2**63)
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=1, crashed="out of range")
    assert "Traceback" not in res.out and rig.sb.submissions() == []


def test_a_malformed_dataset_url_fails_the_models_that_need_it(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("bad_url", count=10, match="dataset")
    res = rig.cli(capfd=capfd)
    why = "malformed download URL"
    check_invariants(rig, res, exit_code=1, failed=dict.fromkeys(rig.models, why))
    assert "Traceback" not in res.out


def test_a_malformed_upload_url_fails_that_upload_only(rig: Rig, capfd: Any) -> None:
    rig.sb.inject("bad_url", count=1, match="submissionUploadAuth")
    res = rig.cli(capfd=capfd)
    failed = [n for n, o in res.outcomes().items() if o["status"] == "failed"]
    assert len(failed) == 1, res.outcomes()
    check_invariants(rig, res, exit_code=1, failed={failed[0]: "malformed upload URL"})


def test_a_features_file_that_is_not_utf8_fails_only_its_model(rig: Rig, capfd: Any) -> None:
    toml = (rig.models_dir / "models.toml").read_text()
    toml = toml.replace(
        'entrypoint = "my_models:m_netta_rufina"\n',
        'entrypoint = "my_models:m_netta_rufina"\nfeatures = "netta/features.txt"\n',
    )
    (rig.models_dir / "models.toml").write_text(toml)
    (rig.models_dir / "netta").mkdir()
    (rig.models_dir / "netta" / "features.txt").write_bytes(b"feature_caf\xe9\n")
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=1, failed={"netta_rufina": "is not UTF-8 text"})
    assert "Traceback" not in res.out
