"""The benchmark: the autopilot, the seed-style script and one container per model, run side by
side against one full-size sandbox with a bandwidth cap, in the same session, so ratios hold on
a noisy machine.

Each case is (scenario, approach, N, repetition). Every "pending" case gets a fresh sandbox
round (new live ids, so every approach must download the new live file); "half" also submits
every other model before the measure; "submitted" submits all of them once and then triggers
each approach again and again (the common case of a cron firing after the work is done).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

from .artifacts import ModelsDir, Trained, build_models_dir, model_names, train
from .inference import pure_inference
from .measure import Job, Measure, become_subreaper, run_jobs

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
APPROACHES = ("autopilot", "compiled", "seed", "container", "preload")
# "preload" is an experiment on the product (benchmarks/autopilot_preload.py), not a baseline:
# with nothing pending it does exactly what "autopilot" does, so it skips that scenario.
# "compiled" is the autopilot as shipped with `models check` (which compiles the LightGBM
# models) run once per state dir before its first timed case: what a cron deployment that
# runs `models prepare` between rounds has. Copies of one artifact share one compile.
EXPERIMENTS = ("preload", "compiled")
SCENARIOS = ("pending", "half", "submitted")
LIVE = "v5.2/live.parquet"


@dataclass
class Config:
    ns: list[int]
    reps: int
    scenarios: list[str]
    approaches: list[str]
    bandwidth: int
    work: Path
    quick: bool
    submitted_reps: int = 5
    cores: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))


class Bench:
    """Owns the sandbox, the trained artifacts and the work dirs for one benchmark session."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        cfg.work.mkdir(parents=True, exist_ok=True)
        self.sb = Sandbox(scale="full", seed=0, cache_dir=cfg.work / "sandbox-cache")
        self.records: list[dict[str, Any]] = []
        self.subreaper = become_subreaper()
        self.trained: Trained
        self.infer: dict[str, float] = {}
        self.live_bytes = 0
        self.file_sizes: dict[str, int] = {}

    # -- set-up ---------------------------------------------------------------------------

    def __enter__(self) -> Bench:
        # A new sandbox numbers its rounds from the clock again, so a state dir of an earlier
        # session could hold this session's "new" live file: every session starts empty.
        for old in self.cfg.work.glob("*-data-*"):
            shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(self.cfg.work / "cases", ignore_errors=True)
        self.sb.start()
        self.sb.bandwidth = None
        data, rnd = self.sb.data, self.round()
        t0 = time.perf_counter()
        self.trained = train(
            data.dataset_path(8, rnd, "v5.2/train.parquet"),
            data.dataset_path(8, rnd, "v5.2/features.json"),
            self.cfg.work,
            quick=self.cfg.quick,
        )
        log.info("models ready in %.1f s", time.perf_counter() - t0)
        live = data.dataset_path(8, rnd, LIVE)
        self.infer = pure_inference(self.trained, live)
        log.info("pure inference CPU s per model: %s", self.infer)
        self.client = NumeraiClient(self.sb.url, self.sb.public_id, self.sb.secret_key)
        for name in model_names(max(self.cfg.ns)):
            self.sb.add_model(name, int(Tournament.CLASSIC))
        self.ids = {str(m["name"]): str(m["id"]) for m in self.sb.models}
        self.sb.bandwidth = self.cfg.bandwidth
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.sb.stop()

    def round(self) -> int:
        """The current Classic round number."""
        return int(str(self.sb.current_round(8)["number"]))

    def _file_size(self, name: str) -> int:
        rnd = self.round()
        return int(self.sb.data.dataset_path(8, rnd, name).stat().st_size)

    # -- rounds and pre-submissions ---------------------------------------------------------

    def new_round(self) -> int:
        self.sb.open_round(int(Tournament.CLASSIC))
        rnd = self.round()
        self._file_size(LIVE)  # generate the new live file now, outside every measure
        # Past rounds' generated files are never asked for again: keep the cache small.
        round_dir = self.sb.data.dataset_path(8, rnd, LIVE).parents[1]
        for old in round_dir.parent.glob("round-*"):
            number = old.name.removeprefix("round-")
            if number.isdigit() and int(number) < rnd:
                shutil.rmtree(old, ignore_errors=True)
        return rnd

    def presubmit(self, names: list[str], rnd: int) -> None:
        """Give ``names`` a valid submission for round ``rnd`` (set-up, not measured)."""
        ids = self.sb.live_ids(8)
        values = np.linspace(0.01, 0.99, len(ids))
        body = "id,prediction\n" + "".join(
            f"{i},{v:.6f}\n" for i, v in zip(ids, values, strict=True)
        )
        for name in names:
            self.client.upload_submission(
                model_id=self.ids[name],
                tournament=Tournament.CLASSIC,
                round_number=rnd,
                data=body.encode(),
                filename=f"{name}_pre.csv",
            )

    # -- approaches -----------------------------------------------------------------------

    def _base_env(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if not k.startswith(("NUMERAI", "Numerai"))}

    def jobs(self, approach: str, md: ModelsDir, case_dir: Path) -> tuple[list[Job], int]:
        """The processes one approach runs for one case, and how many may run at once."""
        case_dir.mkdir(parents=True, exist_ok=True)
        log_file = case_dir / "output.log"
        if approach in ("autopilot", "preload", "compiled"):
            env = self._base_env() | {
                "NUMERAI_API_URL": self.sb.url,
                "NUMERAI_PUBLIC_ID": self.sb.public_id,
                "NUMERAI_SECRET_KEY": self.sb.secret_key,
                "NUMERAI_MODELS_DIR": str(md.dir),
                # One state dir per N kept across repetitions, as a cron deployment keeps it.
                "NUMERAI_DATA_DIR": str(self.cfg.work / f"{approach}-data-{len(md.names)}"),
                "NUMERAI_LOG_FORMAT": "json",
            }
            argv = [_console_script(), "run"]
            if approach == "compiled":
                self._prepare(env, case_dir)
            if approach == "preload":
                argv = [sys.executable, str(HERE / "autopilot_preload.py"), "run"]
            return [Job(argv, env, log_file)], 1
        if approach == "seed":
            data_dir = case_dir / "data"  # a fresh container: nothing on disk
            data_dir.mkdir()
            env = self._base_env() | {
                "NUMERAI_API_URL": self.sb.url,
                "NumeraiUserName": self.sb.public_id,
                "NumeraiAccessKey": self.sb.secret_key,
                "Numerai_DataDir": str(data_dir),
                "Numerai_ModelsDir": str(md.dir),
            }
            return [Job([sys.executable, str(HERE / "seed_style.py")], env, log_file)], 1
        jobs = []
        for name in md.names:
            data_dir = case_dir / name
            data_dir.mkdir()
            seed_entry = json.loads((md.dir / "seed_models.json").read_text())[name]
            env = self._base_env() | {
                "NUMERAI_API_URL": self.sb.url,
                "NUMERAI_PUBLIC_ID": self.sb.public_id,
                "NUMERAI_SECRET_KEY": self.sb.secret_key,
                "MODEL_ID": self.ids[name],
                "MODEL_NAME": name,
                "MODEL_FILE": str(md.dir / seed_entry["artifact"]),
                "MODEL_KIND": seed_entry["kind"],
                "FEATURES_FILE": str(md.dir / "features.json"),
                "DATA_DIR": str(data_dir),
            }
            jobs.append(Job([sys.executable, str(HERE / "container_model.py")], env, log_file))
        # Containers run side by side, as many as there are cores (the baseline's best case).
        return jobs, self.cfg.cores

    def _prepare(self, env: dict[str, str], case_dir: Path) -> None:
        """Once per state dir, untimed: `models check` stores live rows and compiles."""
        marker = Path(env["NUMERAI_DATA_DIR"]) / ".bench-prepared"
        if marker.exists():
            return
        t0 = time.perf_counter()
        with (case_dir / "prepare.log").open("ab") as out:
            subprocess.run(
                [_console_script(), "models", "check"], env=env, stdout=out, stderr=out, check=False
            )
        log.info("compiled models prepared in %.1f s (untimed)", time.perf_counter() - t0)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    # -- one case -------------------------------------------------------------------------

    def case(
        self,
        scenario: str,
        approach: str,
        md: ModelsDir,
        *,
        rep: int,
        pending: list[str],
        rnd: int,
    ) -> dict[str, Any]:
        n = len(md.names)
        case_dir = self.cfg.work / "cases" / f"{scenario}-{approach}-{n}-{rep}"
        shutil.rmtree(case_dir, ignore_errors=True)
        jobs, parallel = self.jobs(approach, md, case_dir)
        before = {name: len(self._subs(name, rnd)) for name in pending}
        self.sb.reset_counters()
        m: Measure = run_jobs(jobs, parallel=parallel)
        counters = self.sb.counters()
        submitted = sum(1 for name in pending if len(self._subs(name, rnd)) > before[name])
        record = {
            "scenario": scenario,
            "approach": approach,
            "n": n,
            "rep": rep,
            "pending": len(pending),
            "submitted": submitted,
            "wall": m.wall,
            "cpu": m.cpu,
            "peak_rss": m.peak_rss,
            "peak_pss": m.peak_pss,
            "poller_cpu": m.poller_cpu,
            "poller_share": m.poller_cpu / m.wall if m.wall else 0.0,
            "exit_codes": sorted(set(m.exit_codes)),
            "requests": counters["requests"],
            "graphql": counters["graphql"],
            "bytes_served": counters["bytes_served"],
            "downloads": counters["downloads"],
            "file_bytes": sum(self._file_size(f) * k for f, k in counters["downloads"].items()),
            "uploads": counters["uploads"],
            "bound": self.bound(md, pending),
            "models_bytes": sum(md.artifact_bytes.values()),
        }
        if approach in ("autopilot", "preload", "compiled"):
            record["timings"] = _autopilot_summary(case_dir / "output.log")
        log.info(
            "%-9s %-9s N=%-3d rep %d: %.2f s wall, %.1f s CPU, %.0f MB PSS, %d requests, "
            "%.1f MB files, %d/%d submitted, poller %.2f%% of a core",
            scenario,
            approach,
            n,
            rep,
            m.wall,
            m.cpu,
            m.peak_pss / 1e6,
            counters["requests"],
            record["file_bytes"] / 1e6,
            submitted,
            len(pending),
            100 * record["poller_share"],
        )
        if submitted != len(pending) or any(m.exit_codes):
            log.warning("case %s did not submit everything: see %s", case_dir.name, case_dir)
        else:
            # Keep the logs, drop the downloaded copies (50 containers x 9 MB adds up).
            for sub in case_dir.iterdir():
                if sub.is_dir():
                    shutil.rmtree(sub)
        self.records.append(record)
        return record

    def _subs(self, name: str, rnd: int) -> list[dict[str, object]]:
        return [s for s in self.sb.submissions(name) if s["round"] == rnd]

    def bound(self, md: ModelsDir, pending: list[str]) -> dict[str, float]:
        """Lower bound: the needed bytes at the cap, plus the pending models' pure inference
        CPU time spread over every core."""
        if not pending:
            return {"download": 0.0, "compute": 0.0, "total": 0.0}
        download = self._file_size(LIVE) / self.cfg.bandwidth
        compute = sum(self.infer[md.kinds[name]] for name in pending) / self.cfg.cores
        return {"download": download, "compute": compute, "total": download + compute}

    # -- the session ----------------------------------------------------------------------

    def run(self, progress: Callable[[dict[str, Any]], None] | None = None) -> None:
        for n in self.cfg.ns:
            md = build_models_dir(self.trained, n, self.cfg.work / f"models-{n}")
            for scenario in self.cfg.scenarios:
                self._scenario(scenario, md)

    def _scenario(self, scenario: str, md: ModelsDir) -> None:
        approaches = list(self.cfg.approaches)
        if scenario == "submitted":
            approaches = [a for a in approaches if a not in EXPERIMENTS]
            rnd = self.new_round()
            self.presubmit(md.names, rnd)
            for rep in range(self.cfg.submitted_reps):
                for approach in _rotate(approaches, rep):
                    self.case(scenario, approach, md, rep=rep, pending=[], rnd=rnd)
            return
        for rep in range(self.cfg.reps):
            for approach in _rotate(approaches, rep):
                rnd = self.new_round()
                pending = md.names
                if scenario == "half":
                    done = md.names[1::2]
                    self.presubmit(done, rnd)
                    pending = md.names[0::2]
                self.case(scenario, approach, md, rep=rep, pending=pending, rnd=rnd)


def _rotate(items: list[str], k: int) -> list[str]:
    """Change the order approaches run in from one repetition to the next (drift cancels)."""
    k %= len(items)
    return items[k:] + items[:k]


def _console_script() -> str:
    script = Path(sys.executable).parent / "numerai-autopilot"
    return str(script) if script.exists() else "numerai-autopilot"


def _autopilot_summary(log_file: Path) -> dict[str, Any]:
    """The run.summary event of the autopilot's JSON output: stage timings and bytes."""
    for line in reversed(log_file.read_text(errors="replace").splitlines()):
        if line.startswith("{") and '"run.summary"' in line:
            doc = json.loads(line)
            return {"timings": doc.get("timings", {}), "bytes": doc.get("bytes_downloaded")}
    return {}
