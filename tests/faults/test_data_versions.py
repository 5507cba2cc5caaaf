"""Data versions as Numerai ships them: the sandbox lists v5.3 beside v5.2. A model without
``data_version`` keeps the written default (v5.2) and the run warns that v5.3 is listed; a
model that names v5.3 gets v5.3. Nothing switches by itself."""

from __future__ import annotations

from typing import Any

from support.invariants import check_invariants
from support.rig import Rig

WARNING = "classic data v5.3 is listed, newer than v5.2"


def test_default_models_stay_on_v52_and_the_run_warns_that_v53_is_listed(
    rig: Rig, capfd: Any
) -> None:
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    assert WARNING in res.out
    downloads = rig.sb.counters()["downloads"]
    assert downloads.get("v5.2/live.parquet") == 1
    assert "v5.3/live.parquet" not in downloads


def test_a_model_that_names_v53_runs_on_v53_without_a_warning(rig: Rig, capfd: Any) -> None:
    toml = (rig.models_dir / "models.toml").read_text()
    (rig.models_dir / "models.toml").write_text(
        toml.replace(
            'entrypoint = "my_models:m_netta_rufina"',
            'entrypoint = "my_models:m_netta_rufina"\ndata_version = "v5.3"',
        )
    )
    res = rig.cli(capfd=capfd)
    check_invariants(rig, res, exit_code=0)
    downloads = rig.sb.counters()["downloads"]
    assert downloads.get("v5.3/live.parquet") == 1 and downloads.get("v5.2/live.parquet") == 1
    # Only the v5.2 group is told about v5.3, naming its models and not the v5.3 one.
    [line] = [ln for ln in res.out.splitlines() if WARNING in ln]
    assert "anas_platyrhynchos" in line and "netta_rufina" not in line
