"""The benchmark session: the seed-style script, the autopilot started by cron (a fresh
``numerai-autopilot run`` process) and the resident autopilot (a long-lived ``serve`` whose
run is triggered), side by side against one full-size sandbox with a bandwidth cap.

Per model set (``lgbm``: N distinct example-size LightGBM models; ``mix``: LightGBM, joblib,
XGBoost) and N, one block: the models dir is built, ``models prepare`` runs (untimed, its time
recorded apart), the resident server is started and given a warm-up round (untimed), then each
repetition runs every approach on a fresh round of its own (new live ids: everyone downloads),
in an order rotated from one repetition to the next so drift favours no one. Then the idle
case: every model already submitted, each approach triggered again (a cron firing after the
work is done). The autopilot's state dir is one for the whole session, as a deployment keeps it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

from . import approaches, models_dir
from .artifacts import MIX_KINDS, Recipe, Trained, train_all
from .inference import library_cpu
from .measure import Job, become_subreaper, run_jobs
from .resident import Resident

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
APPROACHES = ("seed", "cron", "resident", "container")
LIVE = "v5.2/live.parquet"
CLASSIC = int(Tournament.CLASSIC)
_KEEP_ROUNDS = 60  # a full run opens about 45 rounds
MEMORY_EVERY = 0.2  # s between the memory round's PSS snapshots (resident workers live 0.2 s+)


@dataclass
class Config:
    ns: list[int]
    mix_ns: list[int]
    reps: int
    idle_reps: int
    approaches: list[str]
    bandwidth: int
    work: Path
    cache: Path
    quick: bool
    prepare_budget: float
    """Seconds all ``models prepare`` calls may take together; then the running one is
    stopped and later ones skipped (runs use what is ready, as in production)."""
    fresh_prepare: bool = False
    """Drop the compiled cache of earlier sessions (so ``models prepare`` builds everything)."""
    serve_args: list[str] = field(default_factory=list)
    """Extra options for the resident ``serve`` (a warm mode's flag, if it has one)."""
    cores: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))


class Bench:
    """Owns the sandbox, the trained models, the state dir and the records of one session."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        cfg.work.mkdir(parents=True, exist_ok=True)
        self.sb = Sandbox(scale="full", seed=0, cache_dir=cfg.cache / "sandbox")
        self.records: list[dict[str, Any]] = []
        self.memory: list[dict[str, Any]] = []
        """The untimed memory rounds' records (a dense poller: see Bench.case)."""
        self.prepares: list[dict[str, Any]] = []
        self.subreaper = become_subreaper()
        self.trained: Trained
        self.infer: dict[str, float] = {}
        self.engine: dict[str, Any] = {"available": False, "why": "not measured"}
        self.resident_notes: list[str] = []
        self.state = cfg.work / "autopilot-state"

    def __enter__(self) -> Bench:
        # A new sandbox numbers its rounds from the clock again: a state dir of an earlier
        # session could hold this session's "new" live file, so every session starts empty,
        # but for the compiled cache (unless fresh_prepare): a deployment prepares a model once,
        # not every round, and its entries are keyed by the artifact's sha256 and verified.
        for old in (self.cfg.work / "cases", self.cfg.work / "models"):
            shutil.rmtree(old, ignore_errors=True)
        if self.state.is_dir():
            for entry in self.state.iterdir():
                if entry.name == "compiled" and not self.cfg.fresh_prepare:
                    continue
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
        self.sb.start()
        self.sb.bandwidth = None
        rnd = self.round()
        t0 = time.perf_counter()
        lgbm_n = max([*self.cfg.ns, *self.cfg.mix_ns])
        self.trained = train_all(
            self.sb.data.dataset_path(CLASSIC, rnd, "v5.2/train.parquet"),
            self.sb.data.dataset_path(CLASSIC, rnd, "v5.2/features.json"),
            self.cfg.cache,
            Recipe.quick() if self.cfg.quick else Recipe.full(),
            lgbm_seeds=lgbm_n,
            xgb_seeds=models_dir.xgb_seeds(max(self.cfg.mix_ns, default=0)),
            workers=self.cfg.cores,
        )
        log.info("models ready in %.1f s", time.perf_counter() - t0)
        seeds = {"lgbm": 0}
        if self.cfg.mix_ns:
            seeds |= {k: MIX_KINDS.index(k) for k in MIX_KINDS[1:]}  # model i is MIX_KINDS[i % 3]
        self.infer = library_cpu(self.trained, seeds, self.live_path())
        log.info("pure inference CPU s per model: %s", self.infer)
        self.client = NumeraiClient(self.sb.url, self.sb.public_id, self.sb.secret_key)
        for s, n in (
            ("lgbm", max(self.cfg.ns, default=0)),
            ("mix", max(self.cfg.mix_ns, default=0)),
        ):
            for name in models_dir.model_names(s, n):
                self.sb.add_model(name, CLASSIC)
        self.ids = {str(m["name"]): str(m["id"]) for m in self.sb.models}
        self.sb.bandwidth = self.cfg.bandwidth
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.sb.stop()

    # -- rounds -----------------------------------------------------------------------------

    def round(self) -> int:
        return int(str(self.sb.current_round(CLASSIC)["number"]))

    def live_path(self) -> Path:
        return Path(self.sb.data.dataset_path(CLASSIC, self.round(), LIVE))

    def new_round(self) -> int:
        """Open a round and generate its files now, outside every measure."""
        self.sb.open_round(CLASSIC)
        rnd = self.round()
        live = self.live_path()
        # The sandbox numbers rounds from the clock and generates the same bytes for the same
        # round, so generated rounds are reused by the next session (1.5 s each); only rounds
        # far behind are dropped, to bound the cache (about 10 MB a round).
        for old in live.parents[1].parent.glob("round-*"):
            number = old.name.removeprefix("round-")
            if number.isdigit() and int(number) < rnd - _KEEP_ROUNDS:
                shutil.rmtree(old, ignore_errors=True)
        return rnd

    def presubmit(self, names: list[str], rnd: int) -> None:
        """Give ``names`` a valid submission for round ``rnd`` (set-up, not measured)."""
        ids = self.sb.live_ids(CLASSIC)
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

    # -- processes --------------------------------------------------------------------------

    def autopilot_env(self, md: models_dir.ModelsDir) -> dict[str, str]:
        return approaches.autopilot_env(self.sb, md, self.state)

    def jobs(
        self, approach: str, md: models_dir.ModelsDir, case_dir: Path
    ) -> tuple[list[Job], int]:
        """The processes one approach runs for one case, and how many may run at once."""
        return approaches.jobs(
            approach,
            sb=self.sb,
            ids=self.ids,
            md=md,
            case_dir=case_dir,
            state=self.state,
            cores=self.cfg.cores,
        )

    # -- one case -----------------------------------------------------------------------------

    def case(
        self,
        approach: str,
        md: models_dir.ModelsDir,
        *,
        scenario: str,
        rep: int,
        pending: list[str],
        rnd: int,
        resident: Resident | None = None,
        memory: bool = False,
        warm_up: bool = False,
    ) -> dict[str, Any]:
        """Run one case and record it. ``memory``: the block's untimed memory round, polled
        densely (a PSS snapshot of the whole tree every MEMORY_EVERY s, whatever it costs: one
        costs more than 1% of a core of a short resident round); kept in ``self.memory``.
        ``warm_up``: that round is the resident server's first (quick mode), so marked."""
        n = len(md.names)
        every = MEMORY_EVERY if memory else None
        if memory:
            scenario = "memory"
        case_dir = self.cfg.work / "cases" / f"{md.model_set}-{scenario}-{approach}-{n}-{rep}"
        shutil.rmtree(case_dir, ignore_errors=True)
        before = {name: len(self._subs(name, rnd)) for name in pending}
        keep = [resident.pid] if resident else []
        extra: dict[str, Any] = {}
        if approach == "resident":
            if resident is None:
                raise RuntimeError("no resident server")
            self.sb.reset_counters()
            m, last = resident.run_round(
                lambda: int(self.sb.counters()["uploads"]), len(pending), every=every
            )
            extra["last_run"] = last
        else:
            jobs, parallel = self.jobs(approach, md, case_dir)
            self.sb.reset_counters()
            m = run_jobs(jobs, parallel=parallel, keep=keep, every=every)
        counters = self.sb.counters()
        submitted = sum(1 for name in pending if len(self._subs(name, rnd)) > before[name])
        record = {
            "set": md.model_set,
            "scenario": scenario,
            "approach": approach,
            "n": n,
            "rep": rep,
            "pending": len(pending),
            "kinds": dict(Counter(md.kinds[name] for name in pending)),
            "submitted": submitted,
            "wall": m.wall,
            "cpu": m.cpu,
            "peak_rss": m.peak_rss,
            "peak_pss": m.peak_pss,
            "pss_samples": m.pss_samples,
            "pss_rss": m.pss_rss,
            "at_peak": m.at_peak,
            "poller_cpu": m.poller_cpu,
            "poller_share": m.poller_cpu / m.wall if m.wall else 0.0,
            "exit_codes": sorted(set(m.exit_codes)),
            "requests": counters["requests"],
            "downloads": counters["downloads"],
            "uploads": counters["uploads"],
            "models_bytes": md.total_bytes,
            "warm_up": warm_up,
            **extra,
        }
        if approach == "cron":
            record["timings"] = approaches.autopilot_summary(case_dir / "output.log")
        log.info(
            "%-4s %-9s %-8s N=%-3d rep %d: %.2f s wall, %.1f s CPU, %.0f MB PSS, %d/%d submitted, "
            "poller %.2f%% of a core",
            md.model_set,
            scenario,
            approach,
            n,
            rep,
            m.wall,
            m.cpu,
            m.peak_pss / 1e6,
            submitted,
            len(pending),
            100 * record["poller_share"],
        )
        if submitted != len(pending) or any(m.exit_codes):
            log.warning("case %s did not submit everything: see %s", case_dir.name, case_dir)
        elif case_dir.is_dir():
            for sub in case_dir.iterdir():  # keep the logs, drop the downloaded copies
                if sub.is_dir():
                    shutil.rmtree(sub)
        (self.memory if memory else self.records).append(record)
        return record

    def _subs(self, name: str, rnd: int) -> list[dict[str, object]]:
        return [s for s in self.sb.submissions(name) if s["round"] == rnd]
