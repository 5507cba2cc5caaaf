"""The CLI process moves its secret variables out of ``os.environ``; settings still see them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot import config


@pytest.fixture
def sealed() -> Iterator[dict[str, str]]:
    yield config._SEALED
    config._SEALED.clear()


def test_sealed_secrets_leave_os_environ_and_still_reach_the_settings(
    monkeypatch: pytest.MonkeyPatch, sealed: dict[str, str], tmp_path: Path
) -> None:
    monkeypatch.setenv("NUMERAI_SECRET_KEY", "sealed-secret-key-123")
    hook = tmp_path / "hook"
    hook.write_text("h" * 40 + "\n")
    monkeypatch.setenv("NUMERAI_WEBHOOK_SECRET_FILE", str(hook))
    monkeypatch.setenv("NUMERAI_MODELS_DIR", "/srv/models")  # not a secret: stays
    moved = config.seal_secret_environ()
    assert set(moved) == {"NUMERAI_SECRET_KEY", "NUMERAI_WEBHOOK_SECRET_FILE"}
    assert "NUMERAI_SECRET_KEY" not in os.environ
    assert os.environ["NUMERAI_MODELS_DIR"] == "/srv/models"
    settings = config.load_settings()
    assert settings.secret_key is not None and settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == "h" * 40
    assert settings.secret_key.get_secret_value() == "sealed-secret-key-123"
    # A variable set later (in this process) wins over the sealed one.
    monkeypatch.setenv("NUMERAI_SECRET_KEY", "newer-key-456")
    later = config.load_settings()
    assert later.secret_key is not None and later.secret_key.get_secret_value() == "newer-key-456"


def test_every_secret_setting_and_its_file_form_is_sealed() -> None:
    names = set(config.secret_env_names())
    for var in (
        "NUMERAI_PUBLIC_ID",
        "NUMERAI_SECRET_KEY",
        "NUMERAI_NOTIFY_URLS",
        "NUMERAI_HEALTHCHECK_URL",
        "NUMERAI_WEBHOOK_SECRET",
    ):
        assert {var, var + "_FILE"} <= names
