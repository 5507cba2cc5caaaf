"""Run the Azure set-up's steps with the ``az`` CLI (``deploy azure --apply``).

Steps run in order without a shell: ``$VAR`` arguments take earlier steps' captured output; a
step that writes a secret gets a private temporary file holding the value (newline stripped),
deleted right after. A failed step stops the set-up with az's own message.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ..errors import ConfigError
from .script import FILE, STEP_WAITS, Step

log = logging.getLogger(__name__)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
STEP_TIMEOUT_S = 1800.0  # az acr build and the deployments take minutes, never an hour


def _expand(arg: str, values: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in values:
            raise ConfigError(f"the set-up refers to ${name} before a step defined it")
        return values[name]

    return re.sub(r"\$([A-Z_][A-Z0-9_]*)", sub, arg)


def apply_steps(
    steps: Sequence[Step],
    secrets: Mapping[str, str],
    *,
    run: Runner = subprocess.run,
    sleep: Callable[[float], None] = time.sleep,
    on_step: Callable[[Step], None] | None = None,
) -> dict[str, str]:
    """Run every step; return the captured values (names like VAULT, never a secret's)."""
    captured: dict[str, str] = {}
    for step in steps:
        if on_step:
            on_step(step)
        argv = [_expand(a, captured) for a in step.argv]
        env = {**os.environ, **{k: _expand(v, captured) for k, v in step.env.items()}}
        with tempfile.TemporaryDirectory(prefix="numerai-autopilot-") as tmp:
            if step.secret:
                path = Path(tmp) / "value"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(secrets[step.secret].strip())
                argv = [str(path) if a == FILE else a for a in argv]
            out_text = _run_with_retries(step, argv, env, run, sleep)
        if step.capture:
            captured[step.capture] = out_text.strip()
    return {k: v for k, v in captured.items() if k != "AZURE_STORAGE_KEY"}


def _run_with_retries(
    step: Step, argv: list[str], env: dict[str, str], run: Runner, sleep: Callable[[float], None]
) -> str:
    for attempt in range(step.retries + 1):
        try:
            res = run(
                argv, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, check=False
            )
        except FileNotFoundError as exc:
            raise ConfigError(
                "the Azure CLI `az` is not installed or not on PATH: install it and `az login`"
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise ConfigError(f"`{' '.join(argv[:4])}` ran past {STEP_TIMEOUT_S:g} s") from exc
        if res.returncode == 0:
            return res.stdout
        if attempt < step.retries:
            pause = STEP_WAITS.delay(attempt + 1)
            log.info("%s failed (try %d), retrying in %g s", " ".join(argv[:4]), attempt + 1, pause)
            sleep(pause)
    # az's stderr names the resource and the reason; it never echoes a --file's content.
    raise ConfigError(
        f"`{' '.join(argv[:4])}` failed ({res.returncode}): {res.stderr.strip()[-600:]}"
    )
