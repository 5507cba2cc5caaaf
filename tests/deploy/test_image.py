"""The built image, run with podman against a sandbox on 127.0.0.1: the demo's models, keys
from files, non-root, read-only root; no secret in any layer; the mounts a container may lack;
a prompt stop. ``tools/image-test`` builds the image and runs this file (a CI step of its own);
without it every test here skips."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.demo import write_example_models
from numerai_autopilot.deploy.triggers import k8s_cronjob
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament
from support.image import UID, Box, Ran, layer_blobs, pem_blocks, podman, write_secrets
from support.sandbox import sandbox

IMAGE = os.environ.get("NUMERAI_IMAGE", "")
pytestmark = pytest.mark.skipif(
    not IMAGE or podman() is None,
    reason="no image to run: tools/image-test builds one (root, buildah, podman) and runs this",
)
DEMO = {Tournament.CLASSIC: "anas_platyrhynchos", Tournament.SIGNALS: "pica_pica"}
DEMO[Tournament.CRYPTO] = "buteo_buteo"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
UPLOADS = ("submissionUploadAuth", "submissionUploadSignalsAuth", "createSubmission")


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    base = tmp_path_factory.mktemp("image")
    base.chmod(0o755)  # the container's user walks through it to its mounts
    with sandbox(tmp_path_factory.mktemp("sbx-cache"), base / "sbx") as sb:
        models = base / "models"
        with NumeraiClient(sb.url, sb.public_id, sb.secret_key) as client:
            write_example_models(client, models, base / "train-cache", dict(DEMO))
        write_secrets(base / "secrets", sb.public_id, sb.secret_key)
        yield Box(IMAGE, sb, base, models, base / "secrets")


def _uploads(sb: Sandbox) -> dict[str, int]:
    counters = sb.counters()
    puts = sum(n for k, n in counters["http"].items() if k.startswith("PUT "))
    return {**{k: counters["graphql"].get(k, 0) for k in UPLOADS}, "PUT": puts}


def test_the_image_runs_as_its_own_user_with_tini_as_pid_1(box: Box) -> None:
    cfg = subprocess.run(
        [
            "podman",
            "image",
            "inspect",
            "--format",
            "{{.Config.User}} {{.Config.Entrypoint}} {{.Config.Cmd}}",
            IMAGE,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert cfg == f"{UID}:{UID} [/usr/bin/tini -- numerai-autopilot] [run]"


def test_the_demo_models_are_submitted_once_and_a_rerun_uploads_nothing(box: Box) -> None:
    data = box.data_dir("demo")
    hardened = ("--read-only", "--tmpfs=/tmp", "--shm-size=256m")
    first = box.run(data, *hardened)
    assert first.code == 0, first.err[-3000:]
    assert first.summary()["summary"]["submitted"] == 3
    for name in DEMO.values():
        assert len(box.sb.submissions(name)) == 1, name
    before = _uploads(box.sb)
    rerun = box.run(data, *hardened)
    assert rerun.code == 0, rerun.err[-3000:]
    assert rerun.summary()["summary"] == {**rerun.summary()["summary"], "submitted": 0}
    assert rerun.summary()["summary"]["already"] == 3
    assert _uploads(box.sb) == before, "the rerun asked to upload"
    assert box.sb.secret_key not in first.out + first.err + rerun.out + rerun.err
    print(f"first run {first.seconds:.1f} s, rerun {rerun.seconds:.1f} s")


def test_no_secret_and_no_host_ca_in_any_layer_config_or_history(box: Box, tmp_path: Path) -> None:
    canary = os.environ.get("NUMERAI_IMAGE_CANARY", "")
    assert canary, "tools/image-test plants a canary in the build context"
    # The certificates this machine adds to the public ones (its TLS-intercepting CA, if any):
    # the build mounted its bundle; copied into a layer, every container would trust them.
    image_ca = subprocess.run(
        ["podman", "run", "--rm", "--network=none", "--entrypoint=cat", IMAGE, CA_BUNDLE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    local = Path("/usr/local/share/ca-certificates")
    added = {c for f in local.glob("**/*.crt") for c in pem_blocks(f.read_text())}
    host_only = added - pem_blocks(image_ca)
    needles = [canary.encode(), box.sb.secret_key.encode(), *(c.encode() for c in host_only)]
    files = 0
    for name, blob in layer_blobs(IMAGE, tmp_path):
        files += 1
        for needle in needles:
            assert needle not in blob, f"{name} holds a secret or the host's CA"
    assert files > 1000  # the layers were really read
    history = subprocess.run(
        ["podman", "history", "--no-trunc", "--format", "{{.CreatedBy}}", IMAGE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert canary not in history and "SECRET_KEY=" not in history
    print(f"{files} files scanned; {len(host_only)} certificate(s) only the host trusts")


def test_a_read_only_root_without_tmp_falls_back_to_the_data_volume(box: Box) -> None:
    box.sb.open_round()  # something to predict: the fork server needs a temporary folder
    # podman mounts a /tmp by itself unless told not to; plain `docker run --read-only` does not.
    ran = box.run(box.data_dir("no-tmp"), "--read-only", "--read-only-tmpfs=false")
    assert ran.code == 0, ran.err[-3000:]
    assert ran.summary()["summary"]["submitted"] == 3
    [warning] = [w for w in ran.log_lines("warning") if "temporary folder" in w]
    assert "/data/tmp" in warning and "--tmpfs /tmp" in warning


def test_a_small_dev_shm_shares_the_live_frame_from_disk(box: Box) -> None:
    box.sb.open_round()
    ran = box.run(box.data_dir("small-shm"), "--read-only", "--tmpfs=/tmp", "--shm-size=1m")
    assert ran.code == 0, ran.err[-3000:]
    assert ran.summary()["summary"]["submitted"] == 3
    warnings = [w for w in ran.log_lines("warning") if "cannot hold the live frame" in w]
    assert warnings and all("--shm-size" in w for w in warnings), ran.err[-3000:]


def test_podman_stop_ends_a_run_in_seconds_recorded_as_interrupted(box: Box) -> None:
    box.sb.open_round(int(Tournament.CLASSIC))
    models = box.base / "slow-models"
    models.mkdir()
    # A model that would predict for 10 minutes: only the stop can end the run in time.
    (models / "slow.py").write_text(
        "import os, time\n\ndef predict(live):\n"
        # A model's own output is captured onto its outcome, not the container's log: it says
        # it started with a file in the (writable, host-mounted) data dir.
        "    open('/data/slow-model-started', 'w').close()\n    time.sleep(600)\n    return None\n"
    )
    (models / "models.toml").write_text(
        '[[model]]\nname = "anas_platyrhynchos"\nentrypoint = "slow:predict"\n'
    )
    data = box.data_dir("stop")
    name = f"autopilot-stop-{os.getpid()}"
    argv = box.argv(data, "--detach", f"--name={name}", "--read-only", "--tmpfs=/tmp",
                    models=models, env={"NUMERAI_MODEL_TIMEOUT": "900"})  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    try:
        deadline = time.monotonic() + 120
        while not (data / "slow-model-started").exists():  # the run is predicting
            assert time.monotonic() < deadline, _logs(name)
            time.sleep(0.5)  # polling for the marker (bounded by the deadline)
        start = time.monotonic()
        subprocess.run(["podman", "stop", "--time=30", name], check=True, timeout=60)
        stopped = time.monotonic() - start
        code = subprocess.run(
            ["podman", "inspect", "--format", "{{.State.ExitCode}}", name],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        logs = _logs(name)
    finally:
        subprocess.run(["podman", "rm", "-f", name], capture_output=True, timeout=60, check=False)
    assert code == "130", logs[-3000:]  # SIGTERM handled as Ctrl-C, not SIGKILL after 30 s
    assert stopped < 10, f"the stop took {stopped:.1f} s"
    assert "interrupted" in logs and "Traceback" not in logs
    history = box.run(data, args=("history",))
    assert '"interrupted"' in history.out, history.out + history.err
    print(f"podman stop took {stopped:.1f} s")


def _logs(name: str) -> str:
    res = subprocess.run(
        ["podman", "logs", name], capture_output=True, text=True, timeout=60, check=False
    )
    return res.stdout + res.stderr


def test_the_cronjob_pod_runs_under_podman_kube_play(box: Box, tmp_path: Path) -> None:
    box.sb.open_round()
    cronjob = yaml.safe_load(k8s_cronjob(image=IMAGE))
    template = cronjob["spec"]["jobTemplate"]["spec"]["template"]
    name = f"autopilot-kube-{os.getpid()}"
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {**template["metadata"], "name": name}}
    pod["spec"] = spec = template["spec"]
    [container] = spec["containers"]
    container["env"].append({"name": "NUMERAI_API_URL", "value": box.sb.url})  # not Numerai
    claims = []
    for vol in spec["volumes"]:
        if "secret" in vol:  # podman 4.3 writes a secret volume's values base64-encoded
            vol.pop("secret")
            vol["hostPath"] = {"path": str(box.secrets), "type": "Directory"}
        elif "persistentVolumeClaim" in vol:  # podman: a named volume of the claim's name
            claims.append(vol["persistentVolumeClaim"]["claimName"])
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(yaml.safe_dump(pod))

    def podman(*args: str, check: bool = True) -> str:
        res = subprocess.run(
            ["podman", *args], capture_output=True, text=True, timeout=300, check=False
        )
        assert res.returncode == 0 or not check, res.stdout + res.stderr
        return res.stdout + res.stderr

    try:
        for claim in claims:
            podman("volume", "rm", "--force", claim, check=False)
            podman("volume", "create", claim)
        models = Path(podman("volume", "inspect", "--format={{.Mountpoint}}", claims[0]).strip())
        shutil.copytree(box.models, models, dirs_exist_ok=True)
        played = podman("kube", "play", "--network=host", str(manifest))
        ctr = f"{name}-autopilot"
        deadline = time.monotonic() + 300
        while podman("inspect", "--format={{.State.Status}}", ctr).strip() != "exited":
            assert time.monotonic() < deadline, podman("logs", ctr)
            time.sleep(1)  # polling the pod's one container (bounded by the deadline)
        code = podman("inspect", "--format={{.State.ExitCode}}", ctr).strip()
        logs = podman("logs", ctr)
    finally:
        podman("pod", "rm", "--force", name, check=False)
        for claim in claims:
            podman("volume", "rm", "--force", claim, check=False)
    assert code == "0", logs[-3000:]
    summary = Ran(0, logs, "", 0).summary()["summary"]
    assert summary["submitted"] == 3, summary
    print(f"podman kube play:\n{played}{summary}")
