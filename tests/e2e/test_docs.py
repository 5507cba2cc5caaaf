"""The README's settings and exit-code tables cannot drift from the code: every variable,
option and code they name exists, and everything the code has is in them."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from numerai_autopilot.cli.app import app
from numerai_autopilot.cli.common import SETTING_OPTIONS
from numerai_autopilot.config import _SETTINGS_ENV
from numerai_autopilot.errors import ExitCode

README = Path(__file__).resolve().parents[2] / "README.md"


def _table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("| ---"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]  # without the header


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_setting_is_in_the_readme_with_the_option_the_cli_has() -> None:
    rows = _table("## Settings")
    documented: dict[str, list[str]] = {}
    for variable, option, _default in rows:
        names = re.findall(r"`(NUMERAI_[A-Z_]+)`", variable)
        options = re.findall(r"`(--[a-z-]+)`", option)
        assert names, variable
        for i, name in enumerate(names):
            documented[name] = options[i : i + 1] if len(options) == len(names) else options
    assert set(documented) == set(_SETTINGS_ENV.values())
    helps = _help("run") + _help("serve")
    for field, var in _SETTINGS_ENV.items():
        flag = "--" + field.replace("_", "-")
        assert field in SETTING_OPTIONS, f"{field} has no option declared"
        assert documented[var] == [flag], (var, documented[var])
        assert flag in helps, f"{flag} is in the README but not in run/serve --help"


def test_every_exit_code_is_documented_and_every_documented_one_exists() -> None:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| exit code | meaning |") :].split("\n\n", 1)[0]
    codes = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert codes == {int(c) for c in ExitCode}
