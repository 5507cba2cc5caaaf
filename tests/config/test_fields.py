"""The config's own value checks (config/_fields.py, which replaced pydantic there): strict for
the models file, lax for settings read from the environment, every mistake said in the words
pydantic used, and no secret echoed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from numerai_autopilot.config import SettingsSource, load_settings, salvage_settings
from numerai_autopilot.config._fields import (
    Invalid,
    SecretStr,
    as_bool,
    as_float,
    as_int,
    as_path,
    as_secret,
    as_str,
    build,
    one_of,
    spec,
    weights,
)
from numerai_autopilot.errors import ConfigError


@dataclass(frozen=True)
class Table:
    name: str = spec(as_str, "", required=True, min_length=1)
    count: int | None = spec(as_int, gt=0, le=10)
    ratio: float = spec(as_float, 0.5, ge=0, le=1, finite=True)
    on: bool = spec(as_bool, False)
    mode: str = spec(one_of("a", "b", "c"), "a")
    parts: dict[str, float] | None = spec(weights)


def messages(raw: object, *, strict: bool = True) -> dict[str, str]:
    value, problems = build(Table, raw, strict=strict)
    assert (value is None) == bool(problems)
    return {".".join(p.loc): p.msg for p in problems}


def test_a_valid_table_gets_its_values_and_the_defaults() -> None:
    value, problems = build(Table, {"name": "m", "count": 3, "ratio": 1}, strict=True)
    assert problems == []
    assert value == Table(name="m", count=3, ratio=1.0, on=False, mode="a", parts=None)
    assert isinstance(value.ratio, float)


def test_strict_mode_reports_every_wrong_type_not_coerced() -> None:
    assert messages(
        {"name": 7, "count": 2.0, "ratio": "0.5", "on": "yes", "mode": "d", "parts": {"x": "1"}}
    ) == {
        "name": "Input should be a valid string",
        "count": "Input should be a valid integer",
        "ratio": "Input should be a valid number",
        "on": "Input should be a valid boolean",
        "mode": "Input should be 'a', 'b' or 'c'",
        "parts.x": "Input should be a valid number",
    }


def test_bounds_and_presence_are_said_as_pydantic_said_them() -> None:
    assert messages({"count": 0, "ratio": float("inf"), "oops": 1}) == {
        "name": "Field required",
        "count": "Input should be greater than 0",
        "ratio": "Input should be a finite number",
        "oops": "Extra inputs are not permitted",
    }
    assert messages({"name": "", "count": 11, "ratio": -0.5}) == {
        "name": "String should have at least 1 character",
        "count": "Input should be less than or equal to 10",
        "ratio": "Input should be greater than or equal to 0",
    }
    assert messages("not a table") == {"": "Input should be a valid dictionary"}


def test_booleans_are_not_numbers_in_either_mode() -> None:
    for strict in (True, False):
        assert messages({"name": "m", "count": True}, strict=strict) == {
            "count": "Input should be a valid integer"
        }
        assert messages({"name": "m", "ratio": False}, strict=strict) == {
            "ratio": "Input should be a valid number"
        }


def test_lax_mode_reads_environment_strings() -> None:
    assert as_bool("TRUE", False) is True
    assert as_bool(" off ", False) is False
    assert as_int(" 12 ", False) == 12
    assert as_int(3.0, False) == 3
    assert as_float("1e3", False) == 1000.0
    assert as_path("x/y", False) == Path("x/y")
    for convert, text, msg in (
        (as_bool, "maybe", "Input should be a valid boolean, unable to interpret input"),
        (as_int, "4.5", "Input should be a valid integer, unable to parse string as an integer"),
        (as_float, "fast", "Input should be a valid number, unable to parse string as a number"),
    ):
        with pytest.raises(Invalid, match=msg):
            convert(text, False)
    with pytest.raises(Invalid, match="fractional part"):
        as_int(4.5, False)


def test_a_secret_never_shows() -> None:
    secret = as_secret("TOPSECRET", False)
    assert secret.get_secret_value() == "TOPSECRET"
    assert "TOPSECRET" not in repr(secret) + str(secret) + f"{secret!r} {secret}"
    assert secret == SecretStr("TOPSECRET") and secret != SecretStr("other")
    assert str(SecretStr("")) == ""


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"NUMERAI_WORKERS": "0"}, "workers (NUMERAI_WORKERS / --workers): Input should be "
         "greater than or equal to 1"),
        ({"NUMERAI_LOG_FORMAT": "xml"}, "log_format (NUMERAI_LOG_FORMAT / --log-format): Input "
         "should be 'auto', 'rich' or 'json'"),
        ({"NUMERAI_RESIDENT": "maybe"}, "resident (NUMERAI_RESIDENT / --resident): Input should "
         "be a valid boolean, unable to interpret input"),
        ({"NUMERAI_WATCH_MARGIN": "soon"}, "watch_margin (NUMERAI_WATCH_MARGIN / --watch-margin)"
         ": Value error, must be a duration such as 900, 90s, 15m or 1h"),
        ({"NUMERAI_SHARD": "3/2"}, "shard (NUMERAI_SHARD / --shard): Value error, K counts "
         "from 0: shard 3 of 2 must be 0 to 1"),
        ({"NUMERAI_API_URL": "ftp://x"}, "api_url (NUMERAI_API_URL / --api-url): Value error, "
         "must be an http(s) URL such as https://api-tournament.numer.ai"),
    ],
)  # fmt: skip
def test_each_bad_setting_is_one_line_naming_variable_and_option(
    env: dict[str, str], line: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ=env)
    assert str(err.value) == "invalid settings: " + line


def test_every_bad_setting_is_said_at_once_and_values_are_read_as_given() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ={"NUMERAI_WORKERS": "x", "NUMERAI_MODEL_TIMEOUT": "-1"})
    assert "workers (" in str(err.value) and "model_timeout (" in str(err.value)
    s = load_settings(
        environ={
            "NUMERAI_WORKERS": "3",
            "NUMERAI_WATCH_MARGIN": "15m",
            "NUMERAI_SHARD": "1/4",
            "NUMERAI_RESIDENT": "no",
            "NUMERAI_API_URL": "http://127.0.0.1:9/",
            "NUMERAI_DATA_DIR": "d",
        }
    )
    assert (s.workers, s.watch_margin, str(s.shard), s.resident) == (3, 900.0, "1/4", False)
    assert (s.api_url, s.data_dir, s.state_path) == ("http://127.0.0.1:9/", Path("d"), Path("d"))


def test_salvage_keeps_the_good_settings_and_names_the_dropped() -> None:
    source = SettingsSource(
        environ={"NUMERAI_WORKERS": "zero", "NUMERAI_DATA_DIR": "kept", "NUMERAI_WATCH": "1"}
    )
    settings, dropped = salvage_settings(source)
    assert dropped == {"workers"}
    assert settings.data_dir == Path("kept") and settings.watch is True
    assert settings.workers >= 1  # the default
