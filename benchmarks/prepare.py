"""The untimed preparation of a benchmark session: the sample run a fresh state dir needs,
and ``models prepare`` within the session's budget, with the fastest engine it produced."""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from . import approaches
from .bench import Bench
from .inference import engine_cpu
from .measure import Job, Measure, children_cpu, run_jobs
from .models_dir import ModelsDir

log = logging.getLogger(__name__)

_MIN_PREPARE = 5.0  # seconds: less left of the prepare budget and prepare is not started


def sample_run(bench: Bench, md: ModelsDir) -> None:
    """One untimed run, so the state dir holds the live rows prepared engines are
    verified on (a fresh deployment's first run does the same); skipped while the
    compiled cache kept from an earlier session holds a recent sample."""
    try:
        from numerai_autopilot.compiled import CompiledStore

        if not CompiledStore(bench.state / "compiled").sample_stale("classic"):
            log.info("sample run skipped: the compiled cache holds recent live rows")
            return
    except (ImportError, AttributeError, TypeError, OSError):
        pass  # the cache's API moved: make the run, it costs seconds
    bench.new_round()
    case_dir = bench.cfg.work / "cases" / "sample-run"
    jobs, _ = bench.jobs("cron", md, case_dir)
    m = run_jobs(jobs, timeout=1800)
    log.info("sample run (untimed): %.1f s, exit %s", m.wall, m.exit_codes)


def prepare(bench: Bench, md: ModelsDir) -> dict[str, Any]:
    """``models prepare`` for this models dir, stopped when the session's prepare budget
    (all calls together) is spent: a slow compiler must not eat the benchmark's time."""
    case_dir = bench.cfg.work / "cases" / f"prepare-{md.model_set}-{len(md.names)}"
    case_dir.mkdir(parents=True, exist_ok=True)
    argv = [approaches.console_script(), "models", "prepare", "--log-format", "json"]
    job = Job(argv, bench.autopilot_env(md), case_dir / "output.log")
    left = bench.cfg.prepare_budget - sum(p["wall"] for p in bench.prepares)
    timed_out = skipped = False
    cpu0, t0 = children_cpu(), time.perf_counter()
    if left < _MIN_PREPARE:
        skipped = True
        m = Measure(0.0, 0.0, 0, 0, [])
    else:
        try:
            m = run_jobs([job], timeout=left)
        except TimeoutError:  # killed, its compile child too (reaped, counted)
            timed_out = True
            m = Measure(time.perf_counter() - t0, children_cpu() - cpu0, 0, 0, [-9])
    statuses = Counter(approaches.compiled_events(case_dir / "output.log"))
    doc = {
        "set": md.model_set,
        "n": len(md.names),
        "wall": m.wall,
        "cpu": m.cpu,
        "peak_rss": m.peak_rss,
        "timed_out": timed_out,
        "skipped": skipped,
        "exit_codes": m.exit_codes,
        "statuses": dict(statuses),
    }
    log.info("models prepare (untimed) %s N=%d: %s", md.model_set, len(md.names), doc)
    bench.prepares.append(doc)
    if not bench.engine.get("available"):
        try:
            bench.engine = engine_cpu(bench.trained, bench.state / "compiled", bench.live_path())
        except (ImportError, AttributeError, TypeError, ValueError, OSError) as exc:
            # The compiled cache's API moves with the engines: report it, run the rest.
            bench.engine = {"available": False, "why": f"could not open it: {exc!r}"}
        log.info("fastest prepared engine: %s", bench.engine)
    return doc
