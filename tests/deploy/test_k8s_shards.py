"""``deploy kubernetes --shards N``: a CronJob of Indexed Jobs that validates strictly, one pod
per shard, each with its own data cache, the rest of the pod as the plain CronJob's."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml
from typer.testing import CliRunner

from numerai_autopilot.cli.app import app
from numerai_autopilot.config import load_settings
from numerai_autopilot.deploy.k8s_shards import DATA_LIMIT, k8s_sharded_cronjob
from numerai_autopilot.deploy.triggers import SLOT_ARGV, k8s_cronjob
from numerai_autopilot.errors import ConfigError

K8S_VERSION = "1.30.0"  # as tests/deploy/test_kubernetes.py: backoffLimitPerIndex is there


def _load(text: str) -> dict[str, Any]:
    (doc,) = [d for d in yaml.safe_load_all(text) if d]
    assert isinstance(doc, dict)
    return doc


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("n", [1, 3, 12])
def test_sharded_cronjob_validates_strictly_with_n_indexed_pods(n: int) -> None:
    doc = _load(k8s_sharded_cronjob(n))
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{exc.message} at {exc.path}")
    job = doc["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] == n
    # Per index: a failing shard is retried alone and never fails the others' pods.
    assert job["backoffLimitPerIndex"] == 1 and "backoffLimit" not in job
    (c,) = _pod(doc)["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["NUMERAI_SHARDS"] == str(n) and "NUMERAI_SHARD" not in env
    # What the pod's run makes of Kubernetes' JOB_COMPLETION_INDEX and that count:
    pod_env = {"JOB_COMPLETION_INDEX": str(n - 1), "NUMERAI_SHARDS": env["NUMERAI_SHARDS"]}
    shard = load_settings(environ=pod_env).shard
    assert shard is not None and (shard.index, shard.count) == (n - 1, n)
    assert c["command"] == list(SLOT_ARGV)  # tini as PID 1: SIGTERM reaches the run
    vols = {v["name"]: v for v in _pod(doc)["volumes"]}
    assert vols["data"] == {"name": "data", "emptyDir": {"sizeLimit": DATA_LIMIT}}  # per pod
    assert doc["metadata"]["name"] == "numerai-autopilot-shards"


def test_sharded_cronjob_keeps_the_plain_cronjobs_schedule_and_pod() -> None:
    plain, sharded = _load(k8s_cronjob()), _load(k8s_sharded_cronjob(3))
    for key in ("schedule", "timeZone", "concurrencyPolicy", "startingDeadlineSeconds"):
        assert sharded["spec"][key] == plain["spec"][key]
    pj, sj = plain["spec"]["jobTemplate"]["spec"], sharded["spec"]["jobTemplate"]["spec"]
    for key in ("activeDeadlineSeconds", "podFailurePolicy", "ttlSecondsAfterFinished"):
        assert sj[key] == pj[key]
    pp, sp = _pod(plain), _pod(sharded)
    assert sp["securityContext"] == pp["securityContext"]
    (pc,), (sc,) = pp["containers"], sp["containers"]
    assert sc["securityContext"] == pc["securityContext"]
    assert sc["volumeMounts"] == pc["volumeMounts"]
    assert [e for e in sc["env"] if e["name"] != "NUMERAI_SHARDS"] == pc["env"]


def test_deploy_kubernetes_prints_both_and_refuses_a_bad_count() -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["deploy", "kubernetes", "--shards", "4", "--image", "r.io/a:1"])
    assert res.exit_code == 0, res.output
    assert res.output == k8s_sharded_cronjob(4, image="r.io/a:1")
    res = runner.invoke(app, ["deploy", "kubernetes"])
    assert res.exit_code == 0 and res.output == k8s_cronjob()
    with pytest.raises(ConfigError, match="--shards 0"):
        k8s_sharded_cronjob(0)
