"""The seed blog post's variable names are documented aliases: below NUMERAI_*, sealed like
the other secrets, hidden from models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from numerai_autopilot import config
from numerai_autopilot.run._child import secret_names

SEED = {
    "NumeraiUserName": "SEEDPUBLICID",
    "NumeraiAccessKey": "SEEDSECRETKEY",
    "Numerai_DataDir": "/seed/data",
    "Numerai_ModelsDir": "/seed/models",
}


@pytest.fixture
def sealed() -> Iterator[dict[str, str]]:
    yield config._SEALED
    config._SEALED.clear()


def test_the_seed_names_alone_configure_a_run() -> None:
    s = config.load_settings(environ=SEED)
    assert s.require_credentials() == ("SEEDPUBLICID", "SEEDSECRETKEY")
    assert s.data_dir == Path("/seed/data")
    assert s.models_dir == Path("/seed/models")


def test_numerai_names_and_file_forms_win_over_the_seed_names(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("FILEKEY\n")
    env = SEED | {"NUMERAI_PUBLIC_ID": "NEWID", "NUMERAI_SECRET_KEY_FILE": str(key)}
    env["NUMERAI_DATA_DIR"] = "/new/data"
    s = config.load_settings(environ=env)
    assert s.require_credentials() == ("NEWID", "FILEKEY")
    assert s.data_dir == Path("/new/data")
    assert s.models_dir == Path("/seed/models")
    flagged = config.load_settings({"models_dir": Path("/flag")}, environ=SEED)
    assert flagged.models_dir == Path("/flag")


def test_the_seed_secrets_are_sealed_and_hidden_from_models(
    monkeypatch: pytest.MonkeyPatch, sealed: dict[str, str]
) -> None:
    for name, value in SEED.items():
        monkeypatch.setenv(name, value)
    moved = config.seal_secret_environ()
    assert {"NumeraiUserName", "NumeraiAccessKey"} <= set(moved)
    assert "NumeraiUserName" not in os.environ and "NumeraiAccessKey" not in os.environ
    assert os.environ["Numerai_DataDir"] == "/seed/data"  # noqa: SIM112  not a secret: stays
    assert config.load_settings().require_credentials() == ("SEEDPUBLICID", "SEEDSECRETKEY")
    # Models see none of them (the dirs as NUMERAI_* ones are not seen either).
    assert set(secret_names(SEED)) == set(SEED)


def test_an_empty_numerai_variable_falls_back_to_the_seed_name() -> None:
    s = config.load_settings(environ=SEED | {"NUMERAI_DATA_DIR": "  "})
    assert s.data_dir == Path("/seed/data")
