"""The Kubernetes manifests validate against the API schemas and carry the promised settings."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from numerai_autopilot.deploy.files import repo_files
from numerai_autopilot.deploy.slots import RECOMMENDED
from numerai_autopilot.deploy.triggers import RUN_DEADLINE_SECONDS, SLOT_ARGV
from support.deploy_paths import DEPLOY

K8S_VERSION = "1.30.0"  # timeZone and podFailurePolicy are GA here; older clusters lack them
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def _docs() -> list[dict[str, Any]]:
    out = []
    for path in MANIFESTS:
        out += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return out


def _cronjob() -> dict[str, Any]:
    return next(d for d in _docs() if d["kind"] == "CronJob")


def test_every_manifest_validates_strictly_offline() -> None:
    docs = _docs()
    assert {d["kind"] for d in docs} == {"CronJob", "PersistentVolumeClaim", "Secret"}
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {exc.path}")


def test_a_wrong_field_is_caught_by_the_validator() -> None:
    doc = _cronjob()
    doc["spec"]["concurencyPolicy"] = "Forbid"  # misspelt: strict mode must refuse it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_cronjob_runs_the_slots_once_at_a_time_within_a_deadline() -> None:
    spec = _cronjob()["spec"]
    assert spec["schedule"] == RECOMMENDED.cron()
    assert spec["timeZone"] == "Etc/UTC"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] < 15 * 60  # shorter than the gap between slots
    job = spec["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] == RUN_DEADLINE_SECONDS < 3600
    assert job["backoffLimit"] == 1
    fail_job = job["podFailurePolicy"]["rules"][0]
    assert fail_job["action"] == "FailJob" and fail_job["onExitCodes"]["values"] == [2]


def test_pod_is_non_root_read_only_and_gets_keys_and_models_from_volumes() -> None:
    pod = _cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfile's user
    (c,) = pod["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["command"] == list(SLOT_ARGV)
    assert c["command"][0] == "/usr/bin/tini" and "/bin/sh" not in c["command"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["NUMERAI_PUBLIC_ID_FILE"].startswith("/run/secrets/numerai/")
    assert env["NUMERAI_SECRET_KEY_FILE"].startswith("/run/secrets/numerai/")
    assert not any("valueFrom" in e for e in c["env"])  # keys only as files, never env values
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
    assert mounts["/models"]["readOnly"] is True
    assert mounts["/run/secrets/numerai"]["readOnly"] is True
    assert {"/data", "/tmp", "/dev/shm"} <= set(mounts)
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols["secrets"]["secret"]["secretName"] == "numerai-autopilot"
    assert vols["tmp"]["emptyDir"] is not None
    assert vols["models"]["persistentVolumeClaim"]["claimName"] == "numerai-autopilot-models"
    pvcs = {d["metadata"]["name"] for d in _docs() if d["kind"] == "PersistentVolumeClaim"}
    assert pvcs == {"numerai-autopilot-models", "numerai-autopilot-data"}


def test_repository_files_are_the_rendered_templates() -> None:
    # deploy/ is regenerated with numerai_autopilot.deploy.files.write_repo_files(Path("."))
    for rel, text in repo_files().items():
        assert (DEPLOY.parent / rel).read_text(encoding="utf-8") == text, rel
