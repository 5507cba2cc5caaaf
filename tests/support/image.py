"""Running the built image with podman against a sandbox on 127.0.0.1 (tests/deploy/
test_image.py; tools/image-test builds the image and names it in NUMERAI_IMAGE)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerai_autopilot.sandbox import Sandbox

UID = 10001  # the image's user: mounted folders must be its own, as on a real host
SECRETS = "/run/secrets/numerai"


@dataclass
class Box:
    """The image, a sandbox and the host folders a container of it mounts."""

    image: str
    sb: Sandbox
    base: Path
    models: Path
    secrets: Path

    def data_dir(self, name: str) -> Path:
        """A data volume of its own for one scenario (cache, ledger, lock), owned by the
        image's user."""
        path = self.base / "data" / name
        path.mkdir(parents=True)
        os.chown(path, UID, UID)
        return path

    def argv(
        self,
        data: Path,
        *flags: str,
        models: Path | None = None,
        args: Sequence[str] = ("run",),
        env: dict[str, str] | None = None,
    ) -> list[str]:
        """``podman run`` as a hardened deployment would: host network (the sandbox is on the
        host's loopback), no capabilities, models read-only, keys from files."""
        extra = [f"--env={k}={v}" for k, v in (env or {}).items()]
        return [
            "podman",
            "run",
            "--network=host",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            f"--volume={models or self.models}:/models:ro",
            f"--volume={data}:/data",
            f"--volume={self.secrets}:{SECRETS}:ro",
            f"--env=NUMERAI_API_URL={self.sb.url}",
            f"--env=NUMERAI_PUBLIC_ID_FILE={SECRETS}/public_id",
            f"--env=NUMERAI_SECRET_KEY_FILE={SECRETS}/secret_key",
            *extra,
            *flags,
            self.image,
            *args,
        ]

    def run(self, data: Path, *flags: str, **kw: Any) -> Ran:
        argv = self.argv(data, "--rm", *flags, **kw)
        start = time.monotonic()
        res = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
        return Ran(res.returncode, res.stdout, res.stderr, time.monotonic() - start)


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float

    def summary(self) -> dict[str, Any]:
        """The run's JSON summary line (stdout when not a terminal)."""
        for line in self.out.splitlines():
            if line.startswith("{") and '"run.summary"' in line:
                found: dict[str, Any] = json.loads(line)
                return found
        raise AssertionError(f"no summary in the output:\n{self.out}\n{self.err}")

    def log_lines(self, level: str) -> list[str]:
        """The messages of the JSON log lines at ``level`` (other lines are ignored)."""
        out = []
        for line in self.err.splitlines():
            if line.startswith("{"):
                rec = json.loads(line)
                if rec.get("level") == level:
                    out.append(str(rec["msg"]))
        return out


def write_secrets(folder: Path, public_id: str, secret_key: str) -> None:
    """The two key files as a Docker or Kubernetes secret mounts them: the user's, 0400."""
    folder.mkdir(mode=0o700)
    for name, value in (("public_id", public_id), ("secret_key", secret_key)):
        (folder / name).write_text(value)
        os.chown(folder / name, UID, UID)
        (folder / name).chmod(0o400)
    os.chown(folder, UID, UID)


def layer_blobs(image: str, into: Path) -> Iterator[tuple[str, bytes]]:
    """Every file of every layer of ``image`` (name, content), and its config and history as
    ``podman save`` writes them."""
    archive = into / "image.tar"
    subprocess.run(
        ["podman", "save", "--quiet", "--format=docker-archive", "-o", str(archive), image],
        check=True,
        timeout=600,
    )
    try:
        with tarfile.open(archive) as outer:
            for member in outer:
                f = outer.extractfile(member) if member.isfile() else None
                if f is None:
                    continue
                if member.name.endswith(".tar"):
                    with tarfile.open(fileobj=f) as layer:
                        for item in layer:
                            g = layer.extractfile(item) if item.isfile() else None
                            if g is not None:
                                yield f"{member.name}:{item.name}", g.read()
                else:
                    yield member.name, f.read()
    finally:
        archive.unlink()


def pem_blocks(text: str) -> set[str]:
    """The certificates of a PEM bundle, each as written (BEGIN to END line)."""
    out, block = set(), list[str]()
    for line in text.splitlines():
        if line.startswith("-----BEGIN"):
            block = [line]
        elif block:
            block.append(line)
            if line.startswith("-----END"):
                out.add("\n".join(block))
                block = []
    return out


def podman() -> str | None:
    return shutil.which("podman")
