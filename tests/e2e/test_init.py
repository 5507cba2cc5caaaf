"""``numerai-autopilot init`` against the sandbox: a models file written from the account that
the project's own loader reads and a run submits from once the artifacts exist."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import cloudpickle
import pandas as pd

from numerai_autopilot.config import load_models_file
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.sandbox.state import PendingUpload
from numerai_autopilot.tournaments import Tournament
from support.rig import cli_process, env_for


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli_process(env, *args, timeout=120)


def _model_upload_function() -> bytes:
    """A Model Upload function, pickled by value (a nested function: cloudpickle would pickle
    a module-level one by reference to this test module, which a worker cannot import)."""

    def predict(live: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in live.columns if c.startswith("feature_")][:5]
        return live[cols].astype("float32").mean(axis=1).rank(pct=True).to_frame("prediction")

    return bytes(cloudpickle.dumps(predict))


def test_init_writes_every_account_model_with_its_tournament_and_pinned_version(
    sb: Sandbox, tmp_path: Path
) -> None:
    env = env_for(sb, tmp_path)
    r = cli(env, "init")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "models" / "models.toml"
    assert f"wrote {path}: 7 models" in r.stdout
    doc = tomllib.loads(path.read_text())
    written = {(m["name"], m["tournament"]) for m in doc["model"]}
    account = {(str(m["name"]), Tournament(int(str(m["tournament"])))) for m in sb.models}
    assert written == {(name, t.label) for name, t in account}
    for m in doc["model"]:
        t = Tournament.from_label(m["tournament"])
        # Independently of resolve_version: the highest listed version with a live file.
        prefix = {"classic": "", "signals": "signals/", "crypto": "crypto/"}[t.label]
        live = [
            n.removeprefix(prefix).split("/")[0]
            for n in sb.data.list_datasets(int(t))
            if n.startswith(prefix + "v") and n.endswith("/live.parquet")
        ]
        newest = max(live, key=lambda v: [int(x) for x in v[1:].split(".")])
        assert m["data_version"] == newest, (m, live)
        assert m["artifact"] == f"{m['name']}.pkl"
    # Every entry says where its artifact goes, and the file says what to do next.
    assert path.read_text().count("# fill in: the model's file") == 7
    assert "models check" in path.read_text()


def test_init_refuses_to_overwrite_and_names_the_file(sb: Sandbox, tmp_path: Path) -> None:
    env = env_for(sb, tmp_path)
    path = tmp_path / "models" / "models.toml"
    path.parent.mkdir()
    path.write_text("# mine\n")
    r = cli(env, "init")
    assert r.returncode == 2
    assert str(path) in r.stderr and "already exists" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert path.read_text() == "# mine\n"


def test_init_tournament_filter_and_a_wrong_tournament(sb: Sandbox, tmp_path: Path) -> None:
    env = env_for(sb, tmp_path)
    r = cli(env, "init", "--tournament", "crypto", "-t", "signals")
    assert r.returncode == 0, r.stderr
    doc = tomllib.loads((tmp_path / "models" / "models.toml").read_text())
    assert {m["tournament"] for m in doc["model"]} == {"crypto", "signals"}
    assert len(doc["model"]) == 4
    bad = cli(env | {"NUMERAI_MODELS_DIR": str(tmp_path / "other")}, "init", "-t", "clasic")
    assert bad.returncode == 2
    assert "--tournament: unknown tournament 'clasic'" in bad.stderr, bad.stderr
    assert not (tmp_path / "other" / "models.toml").exists()


def test_init_with_a_bad_key_exits_2_and_writes_nothing(sb: Sandbox, tmp_path: Path) -> None:
    env = env_for(sb, tmp_path) | {"NUMERAI_SECRET_KEY": "WRONGWRONGWRONGWRONG"}
    r = cli(env, "init")
    assert r.returncode == 2, r.stderr
    assert "WRONGWRONGWRONGWRONG" not in r.stdout + r.stderr
    assert not (tmp_path / "models" / "models.toml").exists()


def test_a_model_upload_model_starts_disabled(sb: Sandbox, tmp_path: Path) -> None:
    model = sb.state.find_model_by_name("netta_rufina")
    assert model is not None
    upload_id = sb.state.new_uuid()
    pickle = tmp_path / "upload.pkl"
    pickle.write_bytes(b"\x80\x05N.")
    sb.state.pickles[upload_id] = PendingUpload(
        "upload.pkl", model.id, 8, "pickle", pickle, arrived=True
    )
    model.pickle_upload_id = upload_id
    assert cli(env_for(sb, tmp_path), "init", "-t", "classic").returncode == 0
    doc = tomllib.loads((tmp_path / "models" / "models.toml").read_text())
    enabled = {m["name"]: m.get("enabled", True) for m in doc["model"]}
    assert enabled == {"anas_platyrhynchos": True, "corvus_corone": True, "netta_rufina": False}


def test_the_written_file_names_missing_artifacts_then_loads_and_runs_once_they_exist(
    sb: Sandbox, tmp_path: Path
) -> None:
    env = env_for(sb, tmp_path)
    assert cli(env, "init", "-t", "classic").returncode == 0
    models = tmp_path / "models"
    plan = cli(env, "plan")
    assert plan.returncode == 1
    for name in ("anas_platyrhynchos", "netta_rufina", "corvus_corone"):
        assert f"artifact {models / name}.pkl does not exist" in plan.stdout, plan.stdout
    for name in ("anas_platyrhynchos", "netta_rufina", "corvus_corone"):
        (models / f"{name}.pkl").write_bytes(_model_upload_function())
    config = load_models_file(models)
    assert [(m.name, m.tournament, m.data_version) for m in config.models] == [
        (n, Tournament.CLASSIC, "v5.3")  # the sandbox's newest Classic version
        for n in ("anas_platyrhynchos", "corvus_corone", "netta_rufina")
    ]
    assert all(m.artifact == models / f"{m.name}.pkl" for m in config.models)
    run = cli(env, "run")
    assert run.returncode == 0, run.stderr
    ids = {str(m["id"]) for m in sb.models if int(str(m["tournament"])) == 8}
    assert sorted(str(s["model_id"]) for s in sb.submissions()) == sorted(ids)


def test_init_help_names_its_options(sb: Sandbox, tmp_path: Path) -> None:
    r = cli(env_for(sb, tmp_path) | {"COLUMNS": "200"}, "init", "--help")
    assert r.returncode == 0
    for option in ("--tournament", "--models-dir", "--api-url", "--public-id"):
        assert option in r.stdout
