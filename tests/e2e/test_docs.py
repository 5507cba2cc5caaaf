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


# -- every command and option the docs name is one the CLI has ----------------------------------

DOCS = [README, *sorted((README.parent / "docs").glob("*.md"))]
_COMMAND = re.compile(r"(?:^|[;&|(]\s*|\s\$\s*|bin/)numerai-autopilot ")
_STOP = re.compile(r"\s(?:#|\||;|&&|>|\)|or:)\s|\s[#>|]|$")


def _code(text: str) -> list[str]:
    """The code of a markdown text: each line of a fenced block, each inline span."""
    found: list[str] = []
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    for block in fenced:
        found += [re.sub(r"(^|\s)#.*$", "", line) for line in block.splitlines()]
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    found += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return found


def _invocations(text: str, commands: frozenset[str] = frozenset()) -> list[list[str]]:
    """The words after each ``numerai-autopilot`` in the code of ``text``, up to a comment,
    pipe, redirection or the next command of the line; also a code span that starts with one
    of ``commands`` and names an option (``run --late submit``)."""
    out = []
    for line in _code(text):
        first = line.split(maxsplit=1)[0] if line.strip() else ""
        if first in commands and " --" in line and "numerai-autopilot" not in line:
            out.append(_STOP.split(line, maxsplit=1)[0].split())
        # The command itself: at the start, after a shell separator or a bin/ folder (not a
        # name that merely matches, like kubectl's secret numerai-autopilot).
        for part in _COMMAND.split(line)[1:]:
            words = _STOP.split(part, maxsplit=1)[0].split()
            if words:
                out.append(words)
    return out


def _commands() -> dict[tuple[str, ...], str]:
    """Every command path of the CLI (() is the group itself) -> its --help text."""
    import typer.main

    found: dict[tuple[str, ...], str] = {}

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        found[path] = _help(*path)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_and_option_the_docs_name_is_in_its_help() -> None:
    commands = _commands()
    problems: list[str] = []
    checked = 0
    for doc in DOCS:
        top = frozenset(path[0] for path in commands if len(path) == 1)
        for words in _invocations(doc.read_text(encoding="utf-8"), top):
            path: tuple[str, ...] = ()
            rest = list(words)
            while rest and (*path, rest[0]) in commands:
                path = (*path, rest.pop(0))
            group = any(len(p) > len(path) and p[: len(path)] == path for p in commands)
            if rest and re.fullmatch(r"[a-z][a-z-]+", rest[0]) and group:
                said = " ".join(("numerai-autopilot", *words))
                problems.append(f"{doc.name}: `{said}`: no such command")
                continue
            for word in rest:
                if not word.startswith("--"):
                    continue
                option = re.split(r"[=`,.:;)\]]", word, maxsplit=1)[0]
                option = option.split("/")[0]
                checked += 1
                if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", commands[path]):
                    where = " ".join(("numerai-autopilot", *path))
                    problems.append(f"{doc.name}: `{where} {option}`: not in its --help")
    assert problems == [], "\n".join(problems)
    assert checked >= 20  # the docs do name options: the parsing found them


def test_the_docs_check_finds_a_stale_option_and_a_missing_command() -> None:
    text = (
        "```\nnumerai-autopilot run --no-such-flag   # a comment --ignored\n```\n"
        "and `numerai-autopilot frobnicate --x`, `numerai-autopilot deploy azure --out DIR`"
    )
    assert _invocations(text) == [
        ["run", "--no-such-flag"],
        ["frobnicate", "--x"],
        ["deploy", "azure", "--out", "DIR"],
    ]
    commands = _commands()
    assert ("deploy", "azure") in commands and "--out" in commands[("deploy", "azure")]
    assert "--no-such-flag" not in commands[("run",)]
    assert ("frobnicate",) not in commands
