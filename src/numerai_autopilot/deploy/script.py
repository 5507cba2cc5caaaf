"""A set-up as steps: each one command, printed as a bash script or run by ``apply_steps``."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ..retry import Backoff

# Between tries of a step: Azure applies a role assignment within a minute or so. A fixed
# pause, so that the printed script (``sleep``) and ``--apply`` wait alike.
STEP_WAITS = Backoff(first=20.0, factor=1.0, cap=20.0, jitter=0.0)


@dataclass(frozen=True)
class Step:
    """One command of the set-up. ``capture`` names the shell variable its output sets."""

    title: str
    argv: tuple[str, ...]
    capture: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # extra environment, may use $VARS
    secret: str | None = None  # public_id | secret_key: the argv's FILE placeholder is its file
    retries: int = 0  # tries after the first (Azure role assignments take a while to apply)

    def shell(self, key_files: dict[str, str] | None = None) -> str:
        """The step as one line of bash; a secret is read from its file, newline stripped."""
        args = [_quote(a) for a in self.argv]
        if self.secret:
            src = (key_files or {}).get(self.secret, f"${_KEY_VARS[self.secret]}_FILE")
            args = [f"<(tr -d '\\r\\n' < {_quote(src)})" if a == FILE else a for a in args]
        cmd = " ".join(args)
        prefix = "".join(f'{k}="{v}" ' for k, v in self.env.items())
        line = f'{self.capture}="$({prefix}{cmd})"' if self.capture else prefix + cmd
        if self.retries:
            line = (
                f"for try in $(seq {self.retries + 1}); do {line} && break; "
                f'[ "$try" -le {self.retries} ] || exit 1; sleep {STEP_WAITS.first:g}; done'
            )
        return line


FILE = "FILE"
_KEY_VARS = {"public_id": "NUMERAI_PUBLIC_ID", "secret_key": "NUMERAI_SECRET_KEY"}


def _quote(arg: str) -> str:
    # $VAR and $(...) must expand in the printed script; everything else is quoted literally.
    if "$" in arg:
        return '"' + arg.replace('"', '\\"') + '"'
    return shlex.quote(arg)


def render_script(
    steps: list[Step], *, key_files: dict[str, str] | None = None, preamble: str = ""
) -> str:
    """The steps as a bash script a user can read, then paste or run. ``key_files`` maps
    public_id / secret_key to the files holding them (default: $NUMERAI_*_FILE)."""
    lines = ["#!/usr/bin/env bash", "set -euo pipefail", *preamble.splitlines()]
    for s in steps:
        if s.title:
            lines += ["", f"# {s.title}"]
        lines.append(s.shell(key_files))
    return "\n".join(lines) + "\n"
