"""What a person sees while a run works (a terminal: live progress) and what a machine reads
(JSON mode: every line parses, names its run, model and stage; no model output in it)."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from numerai_autopilot.run.ledger import Ledger
from numerai_autopilot.sandbox import Sandbox
from support.rig import CLASSIC, cli_process, env_for

_MODELS = """
import os, sys, time

def _predict(live, name):
    print(f"print from {name}")                    # Python's stdout
    sys.stderr.write(f"stderr from {name}\\n")      # Python's stderr
    os.write(2, f"[LightGBM] [Warning] fd2 from {name}\\n".encode())  # a C library's fd 2
    time.sleep(0.5)
    cols = [c for c in live.columns if c.startswith("feature_")][:5]
    return live[cols].astype("float32").mean(axis=1).rank(pct=True)

def talk_a(live):
    return _predict(live, "a")

def talk_b(live):
    return _predict(live, "b")

def broken(live):
    print("about to fail")
    raise RuntimeError("broken on purpose")
"""
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def _models(base: Path, *, broken: bool = False) -> None:
    d = base / "models"
    d.mkdir(parents=True, exist_ok=True)
    (d / "talky.py").write_text(textwrap.dedent(_MODELS))
    funcs = ["talk_a", "talk_b"] + (["broken"] if broken else [])
    toml = "".join(
        f'[[model]]\nname = "{n}"\nentrypoint = "talky:{f}"\n\n'
        for n, f in zip(CLASSIC, funcs, strict=False)
    )
    (d / "models.toml").write_text(toml)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return cli_process(env, *args, timeout=180)


def test_json_mode_every_line_parses_names_its_run_and_holds_no_model_output(
    sb: Sandbox, tmp_path: Path
) -> None:
    _models(tmp_path, broken=True)
    done = _run(env_for(sb, tmp_path), "run")
    assert done.returncode == 1, done.stderr  # the broken model fails, the others submit
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    run_id = summary["run_id"]
    lines: list[dict[str, Any]] = [json.loads(line) for line in done.stderr.splitlines()]
    assert lines, "a run logs its stages"
    for line in lines:
        assert line["run_id"] == run_id, line
        assert {"model", "stage"} <= set(line), line
    # Model output never reaches the run's own output, on either stream: on stdout, only
    # inside the outcomes' ``output`` field of the summary.
    docs = [json.loads(line) for line in done.stdout.splitlines()]
    for doc in docs:
        for o in doc.get("outcomes", []):
            o.pop("output", None)
    for text in (json.dumps(docs), done.stderr):
        for name in ("a", "b"):
            for what in ("print from", "stderr from", "fd2 from"):
                assert f"{what} {name}" not in text
        assert "about to fail" not in text
    # A line as each stage starts and ends, with the stage's name on it.
    events = [(x.get("event"), x["stage"]) for x in lines if x.get("event")]
    for stage in ("resolve", "download", "load", "predict", "upload"):
        assert ("stage.start", stage) in events and ("stage.end", stage) in events, stage
    # Exactly one line for the failed model, naming it and its stage.
    failed = CLASSIC[2]
    about = [x for x in lines if x["level"] == "error"]
    assert len(about) == 1, about
    assert about[0]["model"] == failed and about[0]["stage"] == "predict"
    assert "broken on purpose" in about[0]["msg"]
    # The models' own output is on their outcomes (in the summary and the ledger).
    outputs = {o["name"]: o["output"] for o in summary["outcomes"]}
    assert "print from a" in outputs[CLASSIC[0]]
    assert "fd2 from b" in outputs[CLASSIC[1]] and "stderr from b" in outputs[CLASSIC[1]]
    assert "about to fail" in outputs[failed]
    with Ledger(tmp_path / "data") as ledger:
        stored = {o.model: o.output for o in ledger.outcomes(run_id=run_id)}
    assert stored == outputs


def test_verbose_terminal_report_shows_what_each_model_printed(sb: Sandbox, tmp_path: Path) -> None:
    _models(tmp_path)
    env = env_for(sb, tmp_path) | {"NUMERAI_LOG_FORMAT": "rich", "COLUMNS": "100"}
    quiet = _run(env, "models", "check")
    assert quiet.returncode == 0, quiet.stderr
    assert "print from a" not in quiet.stdout + quiet.stderr
    assert "workers busy" not in quiet.stderr  # no live progress when not in a terminal
    assert "stage predict started" not in quiet.stderr  # a terminal shows stages live
    assert "run with -v to see it" in quiet.stdout
    loud = _run(env, "models", "check", "-v")
    assert loud.returncode == 0, loud.stderr
    assert f"{CLASSIC[0]} printed" in loud.stdout
    for what in ("print from a", "stderr from a", "fd2 from a", "fd2 from b"):
        assert what in loud.stdout


def _in_terminal(env: dict[str, str], args: list[str], seconds: float) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as its stdin, stdout and stderr; all it drew."""
    leader, follower = os.openpty()
    os.set_blocking(leader, False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "numerai_autopilot", *args],
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    out = bytearray()
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: every writer has exited
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(leader)
    return code, out.decode("utf-8", "replace")


def test_terminal_shows_a_moving_download_bar_and_the_models_predicting(
    sb: Sandbox, tmp_path: Path
) -> None:
    _models(tmp_path)
    sb.bandwidth = 40_000  # bytes a second: the live file takes a few seconds
    env = env_for(sb, tmp_path) | {
        "NUMERAI_LOG_FORMAT": "auto",
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "LINES": "40",
    }
    code, screen = _in_terminal(env, ["run"], 150)
    text = _ANSI.sub("", screen)
    assert code == 0, text[-3000:]
    counts = set(re.findall(r"(\d[\d.,]*)/(\d[\d.,]*) (?:kB|MB|bytes)", text))
    assert len({done for done, _ in counts}) >= 2, text[-3000:]  # the bar moved
    assert re.search(r"\d+(?:\.\d)? ?[kM]B/s", text), "a transfer rate"
    assert "predicting" in text and "workers busy" in text, text[-3000:]
    assert "stage download started" not in text  # the stages are shown live, not as lines
    assert "submitted 2" in text


def test_models_check_describes_each_model_and_keeps_its_csv(sb: Sandbox, tmp_path: Path) -> None:
    _models(tmp_path)
    out_dir = tmp_path / "checked"
    env = env_for(sb, tmp_path)
    done = _run(env, "models", "check", "--out", str(out_dir))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    example = pd.read_parquet(next((tmp_path / "data").rglob("live_example_preds.parquet")))
    for o in summary["outcomes"]:
        stats = o["stats"]
        kept = pd.read_csv(out_dir / f"{o['name']}.csv")
        assert stats["rows"] == len(kept) == len(example) > 0
        assert stats["mean"] == pytest.approx(kept["prediction"].mean(), abs=1e-4)
        assert stats["std"] == pytest.approx(kept["prediction"].std(), abs=1e-4)
        want = kept.set_index("id")["prediction"].rank().corr(example["prediction"].rank())
        assert stats["corr_example"] == pytest.approx(want, abs=1e-3)
    assert not list(out_dir.glob(".*"))  # no temporary file left behind
    shown = _run(env | {"NUMERAI_LOG_FORMAT": "rich", "COLUMNS": "100"}, "models", "check")
    assert "corr with example" in shown.stdout, shown.stdout
    assert f"{CLASSIC[0]}" in shown.stdout
