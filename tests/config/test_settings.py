from pathlib import Path

import pytest

from numerai_autopilot.config import DEFAULT_API_URL, load_settings
from numerai_autopilot.errors import ConfigError


def test_defaults_without_environment() -> None:
    s = load_settings(environ={})
    assert s.api_url == DEFAULT_API_URL + "/"
    assert s.models_dir == Path("models")
    assert s.state_path == Path("data")
    assert s.public_id is None


def test_flags_override_environment() -> None:
    s = load_settings(
        {"models_dir": "/m", "workers": None},
        environ={"NUMERAI_MODELS_DIR": "/env", "NUMERAI_WORKERS": "3"},
    )
    assert s.models_dir == Path("/m")
    assert s.workers == 3


def test_secrets_from_file_variables(tmp_path: Path) -> None:
    (tmp_path / "pid").write_text("PUBLICID123\n")
    (tmp_path / "sk").write_text("SECRETKEY456\n")
    s = load_settings(
        environ={
            "NUMERAI_PUBLIC_ID_FILE": str(tmp_path / "pid"),
            "NUMERAI_SECRET_KEY_FILE": str(tmp_path / "sk"),
        }
    )
    assert s.require_credentials() == ("PUBLICID123", "SECRETKEY456")
    assert "SECRETKEY456" not in repr(s)


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="NUMERAI_SECRET_KEY_FILE"):
        load_settings(environ={"NUMERAI_SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_missing_credentials_name_the_variables() -> None:
    s = load_settings(environ={"NUMERAI_PUBLIC_ID": "abc"})
    with pytest.raises(ConfigError, match="NUMERAI_SECRET_KEY"):
        s.require_credentials()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"NUMERAI_WORKERS": "zero"}, "NUMERAI_WORKERS"),
        ({"NUMERAI_WORKERS": "0"}, "NUMERAI_WORKERS"),
        ({"NUMERAI_API_URL": "ftp://x"}, "NUMERAI_API_URL"),
        ({"NUMERAI_LOG_FORMAT": "xml"}, "NUMERAI_LOG_FORMAT"),
        ({"NUMERAI_MODEL_TIMEOUT": "-1"}, "NUMERAI_MODEL_TIMEOUT"),
    ],
)
def test_bad_setting_names_the_setting(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_settings(environ=env)


def test_bad_secret_value_is_not_echoed() -> None:
    # A notify URL must be a string; a secret key is never shown even when invalid elsewhere.
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"NUMERAI_SECRET_KEY": "TOPSECRET", "NUMERAI_WORKERS": "x"})
    assert "TOPSECRET" not in str(err.value)


def test_environment_values_are_stripped_of_newlines() -> None:
    s = load_settings(environ={"NUMERAI_PUBLIC_ID": "PUB\n", "NUMERAI_SECRET_KEY": " SEC\n"})
    assert s.require_credentials() == ("PUB", "SEC")


def test_a_secret_file_that_is_not_utf8_is_one_clear_error_without_its_bytes(
    tmp_path: Path,
) -> None:
    (tmp_path / "sk").write_bytes(b"SECRET\xff\xfeKEY")
    with pytest.raises(ConfigError, match=r"NUMERAI_SECRET_KEY_FILE: .* is not UTF-8") as err:
        load_settings(environ={"NUMERAI_SECRET_KEY_FILE": str(tmp_path / "sk")})
    assert "SECRET" not in str(err.value).replace("SECRET_KEY", "")


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("NUMERAI_MODEL_MEMORY_MB", str(2**40)),
        ("NUMERAI_MODEL_TIMEOUT", "inf"),
        ("NUMERAI_MODEL_TIMEOUT", "nan"),
        ("NUMERAI_MODEL_TIMEOUT", "1e300"),
        ("NUMERAI_HTTP_TIMEOUT", "inf"),
        ("NUMERAI_HTTP_TIMEOUT", "86400"),
    ],
)
def test_unbounded_numbers_are_refused_naming_the_setting(var: str, value: str) -> None:
    with pytest.raises(ConfigError, match=var):
        load_settings(environ={var: value})
