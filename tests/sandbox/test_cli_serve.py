"""``numerai-autopilot sandbox serve`` as a user starts it: a real process, a state file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from numerai_autopilot.cli.sandbox_cmd import app


def test_serve_writes_state_file_and_answers_graphql(tmp_path: Path) -> None:
    state = tmp_path / "state"
    command = [sys.executable, "-m", "numerai_autopilot", "sandbox", "serve", "--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (state / "sandbox.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        info = json.loads((state / "sandbox.json").read_text())
        assert set(info) == {"url", "public_id", "secret_key", "models"}
        assert info["url"].startswith("http://127.0.0.1:")
        assert (state / "sandbox.json").stat().st_mode & 0o077 == 0
        headers = {"Authorization": f"Token {info['public_id']}${info['secret_key']}"}
        answer = httpx.post(
            info["url"], json={"query": "{ account { models { name } } }"}, headers=headers
        )
        names = {m["name"] for m in answer.json()["data"]["account"]["models"]}
        assert names == {m["name"] for m in info["models"]}
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=20)
    assert info["url"] in out.decode()


def test_serve_refuses_a_non_loopback_host() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"], terminal_width=200)  # noqa: S104
    assert result.exit_code == 2
    assert "loopback" in result.output


@pytest.mark.parametrize("option", ["--port", "--host", "--scale", "--seed", "--state", "--clock"])
def test_serve_help_documents_every_option(option: str) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200)
    assert option in result.output
