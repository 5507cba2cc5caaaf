"""The processes each approach runs (their commands and environments), and what the
benchmark reads back from the autopilot's JSON output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numerai_autopilot.sandbox import Sandbox

from .measure import Job
from .models_dir import ModelsDir

HERE = Path(__file__).resolve().parent


def base_env() -> dict[str, str]:
    """This environment without any Numerai setting (each approach gets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NUMERAI", "Numerai"))}


def autopilot_env(sb: Sandbox, md: ModelsDir, state: Path) -> dict[str, str]:
    return base_env() | {
        "NUMERAI_API_URL": sb.url,
        "NUMERAI_PUBLIC_ID": sb.public_id,
        "NUMERAI_SECRET_KEY": sb.secret_key,
        "NUMERAI_MODELS_DIR": str(md.dir),
        "NUMERAI_DATA_DIR": str(state),
        "NUMERAI_LOG_FORMAT": "json",
    }


def jobs(
    approach: str,
    *,
    sb: Sandbox,
    ids: Mapping[str, str],
    md: ModelsDir,
    case_dir: Path,
    state: Path,
    cores: int,
) -> tuple[list[Job], int]:
    """The processes ``approach`` runs for one case, and how many may run at once."""
    case_dir.mkdir(parents=True, exist_ok=True)
    out = case_dir / "output.log"
    if approach == "cron":
        return [Job([console_script(), "run"], autopilot_env(sb, md, state), out)], 1
    if approach == "seed":
        data_dir = case_dir / "data"  # a fresh container: nothing on disk
        data_dir.mkdir()
        env = base_env() | {
            "NUMERAI_API_URL": sb.url,
            "NumeraiUserName": sb.public_id,
            "NumeraiAccessKey": sb.secret_key,
            "Numerai_DataDir": str(data_dir),
            "Numerai_ModelsDir": str(md.dir),
        }
        return [Job([sys.executable, str(HERE / "seed_style.py")], env, out)], 1
    if approach != "container":
        raise ValueError(f"no processes for approach {approach!r}")
    out_jobs = []
    seed = json.loads((md.dir / "seed_models.json").read_text())
    for name in md.names:
        (case_dir / name).mkdir()
        env = base_env() | {
            "NUMERAI_API_URL": sb.url,
            "NUMERAI_PUBLIC_ID": sb.public_id,
            "NUMERAI_SECRET_KEY": sb.secret_key,
            "MODEL_ID": ids[name],
            "MODEL_NAME": name,
            "MODEL_FILE": str(md.dir / seed[name]["artifact"]),
            "MODEL_KIND": seed[name]["kind"],
            "FEATURES_FILE": str(md.dir / "features.json"),
            "DATA_DIR": str(case_dir / name),
        }
        out_jobs.append(Job([sys.executable, str(HERE / "container_model.py")], env, out))
    return out_jobs, cores  # containers side by side, one per core


def rotate(items: list[str], k: int) -> list[str]:
    """Change the order approaches run in from one repetition to the next (drift cancels)."""
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]


def console_script() -> str:
    script = Path(sys.executable).parent / "numerai-autopilot"
    return str(script) if script.exists() else "numerai-autopilot"


def compiled_events(log_file: Path) -> list[str]:
    """The status of each ``compiled`` JSON event ``models prepare`` printed (none if it
    did not run)."""
    out: list[str] = []
    if not log_file.is_file():
        return out
    for line in log_file.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"compiled"' in line:
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("event") == "compiled":
                out.append(str(doc.get("status")))
    return out


def autopilot_summary(log_file: Path) -> dict[str, Any]:
    """The run.summary event of the autopilot's JSON output: stage timings and bytes."""
    for line in reversed(log_file.read_text(errors="replace").splitlines()):
        if line.startswith("{") and '"run.summary"' in line:
            doc = json.loads(line)
            return {"timings": doc.get("timings", {}), "bytes": doc.get("bytes_downloaded")}
    return {}
