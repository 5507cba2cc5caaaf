"""main.bicep: parsed, scanned, and its job equal, field by field, to the job Azure's SDK models
build from the same inputs; the az set-up and its --apply runner; the cost estimate."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.appcontainers import models as m
from pycep import BicepParser

from numerai_autopilot.deploy._apply import apply_steps
from numerai_autopilot.deploy.azure import FILE, AzureParams, plan_azure, render_script
from numerai_autopilot.deploy.slots import RECOMMENDED
from numerai_autopilot.deploy.triggers import RUN_DEADLINE_SECONDS, SLOT_ARGV
from numerai_autopilot.errors import ConfigError
from support.bicep import BicepEval
from support.deploy_paths import DEPLOY, tool

BICEP = DEPLOY / "azure" / "main.bicep"
PARAMS_FILE = DEPLOY / "azure" / "main.parameters.json"
DOC = BicepParser().parse(file_path=BICEP)
# Reasons live next to each skip in main.bicep; a new skip must be added here on purpose.
EXPECTED_SKIPS = {
    "CKV_AZURE_109",
    "CKV_AZURE_189",
    "CKV_AZURE_139",
    "CKV_AZURE_163",
    "CKV_AZURE_166",
    "CKV_AZURE_35",
    "CKV_AZURE_206",
    "CKV_AZURE_43",
}


def _values(params: AzureParams) -> dict[str, Any]:
    return {k: v["value"] for k, v in params.parameters()["parameters"].items()}


def _sdk_job(p: AzureParams) -> dict[str, Any]:
    """The job as intended, written with Azure's SDK models (which check names and types)."""
    identity, vault = "<identity.id>", "<vault.properties.vaultUri>"
    registry = "acr<unique_string()>.azurecr.io"
    image = p.image or f"{registry}/numerai-autopilot:{p.image_tag}"
    env = [
        m.EnvironmentVar(name="NUMERAI_PUBLIC_ID", secret_ref="numerai-public-id"),
        m.EnvironmentVar(name="NUMERAI_SECRET_KEY", secret_ref="numerai-secret-key"),
        m.EnvironmentVar(name="NUMERAI_MODELS_DIR", value="/models"),
        m.EnvironmentVar(name="NUMERAI_DATA_DIR", value="/data"),
        m.EnvironmentVar(name="NUMERAI_LOG_FORMAT", value="json"),
        m.EnvironmentVar(name="NUMERAI_WORKERS", value=str(p.workers)),
    ]
    job = m.Job(
        location=p.location,
        identity=m.ManagedServiceIdentity(
            type="UserAssigned", user_assigned_identities={identity: m.UserAssignedIdentity()}
        ),
        properties=m.JobProperties(
            environment_id="<environment.id>",
            configuration=m.JobConfiguration(
                trigger_type="Schedule",
                replica_timeout=p.replica_timeout,
                replica_retry_limit=p.replica_retry_limit,
                schedule_trigger_config=m.JobConfigurationScheduleTriggerConfig(
                    cron_expression=p.cron_expression, parallelism=1, replica_completion_count=1
                ),
                secrets=[
                    m.Secret(name=n, key_vault_url=f"{vault}secrets/{n}", identity=identity)
                    for n in ("numerai-public-id", "numerai-secret-key")
                ],
                registries=[]
                if p.image
                else [m.RegistryCredentials(server=registry, identity=identity)],
            ),
            template=m.JobTemplate(
                containers=[
                    m.Container(
                        name="autopilot",
                        image=image,
                        command=list(SLOT_ARGV),
                        env=env,
                        resources=m.ContainerResources(cpu=p.cpu, memory=p.memory),
                        volume_mounts=[
                            m.VolumeMount(volume_name="models", mount_path="/models"),
                            m.VolumeMount(volume_name="data", mount_path="/data"),
                        ],
                    )
                ],
                volumes=[
                    m.Volume(name="models", storage_type="AzureFile", storage_name="models"),
                    m.Volume(
                        name="data",
                        storage_type="AzureFile",
                        storage_name="data",
                        mount_options="uid=10001,gid=10001,dir_mode=0750,file_mode=0640,mfsymlinks",
                    ),
                ],
            ),
        ),
    )
    doc: dict[str, Any] = json.loads(json.dumps(dict(job), default=dict))
    return doc


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'bicep' if k in a else 'sdk'}" for k in set(a) ^ set(b)]
        for k in set(a) & set(b):
            out += _diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items in bicep, {len(b)} in sdk"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: bicep {a!r} != sdk {b!r}"]


@pytest.mark.parametrize(
    "params",
    [
        AzureParams(),
        AzureParams(
            image="ghcr.io/me/numerai-autopilot:1",
            cpu=2.0,
            workers=4,
            location="eastus",
            name="my-autopilot",
        ),
    ],
    ids=["defaults", "own-image"],
)
def test_bicep_job_equals_the_sdk_model_field_by_field(params: AzureParams) -> None:
    bicep = BicepEval(DOC, _values(params), rg_location=params.location).resource("job")
    name = bicep.pop("name")
    assert name == f"caj-{params.name}"
    assert _diff(bicep, _sdk_job(params)) == []


def test_a_changed_bicep_field_shows_up_in_the_comparison() -> None:
    bicep = BicepEval(DOC, _values(AzureParams()), rg_location="westeurope").resource("job")
    bicep.pop("name")
    bicep["properties"]["configuration"]["replicaRetryLimit"] = 3
    assert _diff(bicep, _sdk_job(AzureParams())) == [
        ".properties.configuration.replicaRetryLimit: bicep 3 != sdk 1"
    ]


def test_parameters_file_is_the_rendered_defaults_and_declared_in_the_bicep() -> None:
    assert PARAMS_FILE.read_text(encoding="utf-8") == AzureParams().parameters_text()
    types = {"str": "string", "int": "int", "bool": "bool"}
    for name, value in _values(AzureParams()).items():
        assert name in DOC["parameters"], name
        assert DOC["parameters"][name]["type"] == types[type(value).__name__], name


def test_bicep_defaults_are_the_recommended_slots_and_deadline() -> None:
    defaults = {k: v.get("default") for k, v in DOC["parameters"].items()}
    assert defaults["cronExpression"] == RECOMMENDED.cron()
    assert defaults["replicaTimeout"] == RUN_DEADLINE_SECONDS


def test_keys_reach_the_job_only_as_key_vault_references_after_the_role_assignment() -> None:
    job = DOC["resources"]["job"]["config"]["config"]
    for secret in job["properties"]["configuration"]["secrets"]:
        assert "keyVaultUrl" in secret and "value" not in secret
    assert "vaultReader" in job["dependsOn"]
    assert not [n for n, p in DOC["parameters"].items() if p["type"] == "securestring"]


def test_checkov_passes_with_every_skip_justified() -> None:
    checkov = tool("checkov")
    if checkov is None:
        pytest.skip("checkov is not on PATH (make test puts .venv-tools/bin there)")
    res = subprocess.run(
        [checkov, "-f", str(BICEP), "--framework", "bicep", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    report = json.loads(res.stdout)
    assert report["summary"]["parsing_errors"] == 0
    assert report["results"]["failed_checks"] == [], [
        c["check_id"] for c in report["results"]["failed_checks"]
    ]
    skipped = {
        c["check_id"]: c["check_result"].get("suppress_comment", "")
        for c in report["results"]["skipped_checks"]
    }
    assert set(skipped) == EXPECTED_SKIPS
    assert all(len(reason.strip()) > 40 for reason in skipped.values()), skipped
    assert report["summary"]["passed"] >= 10


# -- the az set-up --------------------------------------------------------------------------


def _steps(tmp_path: Path, params: AzureParams | None = None) -> list[Any]:
    return plan_azure(
        params or AzureParams(),
        parameters_file=tmp_path / "p.json",
        models_dir=tmp_path / "models",
        template=BICEP,
    )


def test_printed_script_is_valid_bash_and_reads_the_key_from_files(tmp_path: Path) -> None:
    script = render_script(_steps(tmp_path), key_files={"public_id": "/keys/public id"})
    path = tmp_path / "setup.sh"
    path.write_text(script, encoding="utf-8")
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=30)
    assert "<(tr -d '\\r\\n' < '/keys/public id')" in script
    assert '"$NUMERAI_SECRET_KEY_FILE"' in script
    order = [ln.split()[1:3] for ln in script.splitlines() if ln.startswith("az ")]
    assert order[0] == ["provider", "register"] and order[-2] == ["containerapp", "job"]
    assert "deployJob=false" in script and "deployJob=true" in script
    assert script.index("deployJob=false") < script.index("keyvault") < script.index("acr build")
    assert script.index("acr build") < script.index("deployJob=true")


def test_an_own_image_skips_the_registry_build(tmp_path: Path) -> None:
    script = render_script(_steps(tmp_path, AzureParams(image="ghcr.io/me/x:1")))
    assert "acr build" not in script


def test_apply_runs_each_step_with_secrets_in_private_files_and_retries(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    seen_secrets: dict[str, str] = {}
    failed_once: set[str] = set()

    def fake_az(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        out = ""
        if argv[1:3] == ["keyvault", "secret"]:
            name = argv[argv.index("--name") + 1]
            if name not in failed_once:  # role assignment not yet effective: 403 once
                failed_once.add(name)
                return subprocess.CompletedProcess(argv, 1, "", "Forbidden")
            f = Path(argv[argv.index("--file") + 1])
            assert stat.S_IMODE(f.stat().st_mode) == 0o600
            seen_secrets[name] = f.read_text(encoding="utf-8")
        elif argv[1:3] == ["ad", "signed-in-user"]:
            out = "00000000-deployer\n"
        elif argv[1:3] == ["deployment", "group"] and argv[3] == "show":
            out = {
                "properties.outputs.keyVaultName.value": "kv-abc\n",
                "properties.outputs.storageAccountName.value": "stabc\n",
                "properties.outputs.registryName.value": "acrabc\n",
            }[argv[argv.index("--query") + 1]]
        elif argv[1:3] == ["storage", "account"]:
            out = "STORAGE-KEY==\n"
        elif argv[1:3] == ["storage", "file"]:
            assert kw["env"]["AZURE_STORAGE_KEY"] == "STORAGE-KEY=="
        return subprocess.CompletedProcess(argv, 0, out, "")

    pauses: list[float] = []
    done = apply_steps(
        _steps(tmp_path),
        {"public_id": "PUB\n", "secret_key": "SEC"},
        run=fake_az,
        sleep=pauses.append,
    )
    assert done == {
        "DEPLOYER": "00000000-deployer",
        "VAULT": "kv-abc",
        "STORAGE": "stabc",
        "REGISTRY": "acrabc",
    }
    assert seen_secrets == {"numerai-public-id": "PUB", "numerai-secret-key": "SEC"}
    assert len(pauses) == 2  # one retry per secret, no real waiting
    flat = " ".join(" ".join(c) for c in calls)
    assert "PUB" not in flat and "SEC" not in flat and FILE not in flat.split()
    assert "deployerPrincipalId=00000000-deployer" in flat and "--vault-name kv-abc" in flat
    assert calls[-4][:5] == ["az", "acr", "build", "--registry", "acrabc"]


def test_apply_stops_at_the_first_failed_step_with_az_message(tmp_path: Path) -> None:
    def failing(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        if argv[1:3] == ["group", "create"]:
            return subprocess.CompletedProcess(argv, 1, "", "AuthorizationFailed: no rights")
        return subprocess.CompletedProcess(argv, 0, "x\n", "")

    with pytest.raises(ConfigError, match=r"az group create.*AuthorizationFailed"):
        apply_steps(
            _steps(tmp_path),
            {"public_id": "P", "secret_key": "S"},
            run=failing,
            sleep=lambda s: None,
        )


def test_apply_without_the_azure_cli_says_to_install_it(tmp_path: Path) -> None:
    def missing(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    with pytest.raises(ConfigError, match="Azure CLI"):
        apply_steps(_steps(tmp_path), {"public_id": "P", "secret_key": "S"}, run=missing)


@pytest.mark.parametrize("kwargs", [{"cpu": 0.3}, {"cpu": 8.0}, {"name": "Bad_Name"}])
def test_impossible_azure_parameters_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        AzureParams(**kwargs)


def test_parameters_file_keeps_no_key() -> None:
    text = PARAMS_FILE.read_text(encoding="utf-8").lower()
    assert "secret" not in text and "public_id" not in text
    assert os.path.getsize(PARAMS_FILE) < 2000
