"""The order of one benchmark run: a sample run, then per (model set, N) a block of prepared,
warmed-up, repeated cases, then the idle case. See bench.py for what each piece measures."""

from __future__ import annotations

import logging

from . import models_dir, prepare
from .approaches import console_script, rotate
from .bench import Bench
from .resident import Resident, warm_mode_available

log = logging.getLogger(__name__)

# Issue 11's memory target is about the autopilot: its memory rounds per block (resident: two,
# its round-to-round spread is 20-50 MB; see memory.py). Quick mode: one each (a smoke test).
MEMORY_ROUNDS = {"cron": 1, "resident": 2}


def run(bench: Bench) -> None:
    cfg = bench.cfg
    blocks = [("lgbm", n) for n in cfg.ns] + [("mix", n) for n in cfg.mix_ns]
    if not blocks:
        return
    bench.resident_notes.append(
        "warm resident mode found in `serve --help`"
        if warm_mode_available(console_script())
        else "no warm resident mode in this build: `serve` as shipped (each round's run "
        "in-process, after one warm-up round)"
    )
    first = models_dir.build(bench.trained, blocks[0][0], 1, cfg.work / "models" / "sample")
    prepare.sample_run(bench, first)
    for model_set, n in blocks:
        md = models_dir.build(bench.trained, model_set, n, cfg.work / "models" / f"{model_set}-{n}")
        block(bench, md)
    if cfg.ns and cfg.idle_reps:
        idle(
            bench,
            models_dir.build(bench.trained, "lgbm", max(cfg.ns), cfg.work / "models" / "idle"),
        )


def block(bench: Bench, md: models_dir.ModelsDir) -> None:
    """Prepare, start and warm the resident server, then the repetitions, then one untimed
    memory round per autopilot approach (its peak PSS is the block's memory figure)."""
    cfg = bench.cfg
    prepare.prepare(bench, md)
    resident = None
    if "resident" in cfg.approaches:
        resident = _start_resident(bench, md)
    approaches = [a for a in cfg.approaches if a != "resident" or resident is not None]
    try:
        for rep in range(cfg.reps):
            for approach in rotate(approaches, rep):
                _all_pending(bench, approach, md, rep, resident)
        # Memory, after the timed repetitions: untimed rounds, polled densely (quick mode:
        # cron's only; the resident's was its warm-up round).
        for approach in approaches:
            rounds = MEMORY_ROUNDS.get(approach, 0)
            if cfg.quick:
                rounds = 0 if approach == "resident" else min(rounds, 1)
            for rep in range(rounds):
                _all_pending(bench, approach, md, rep, resident, memory=True)
    finally:
        if resident is not None:
            idle_cpu = resident.stop()
            bench.resident_notes.append(
                f"{md.model_set} N={len(md.names)}: serve used {idle_cpu:.1f} s of CPU in all"
            )


def _all_pending(
    bench: Bench,
    approach: str,
    md: models_dir.ModelsDir,
    rep: int,
    resident: Resident | None,
    *,
    memory: bool = False,
    warm_up: bool = False,
) -> None:
    """One case on a fresh round in which every model of ``md`` is pending."""
    rnd = bench.new_round()
    bench.case(
        approach,
        md,
        scenario="pending",
        rep=rep,
        pending=md.names,
        rnd=rnd,
        resident=resident,
        memory=memory,
        warm_up=warm_up,
    )


def _start_resident(bench: Bench, md: models_dir.ModelsDir) -> Resident | None:
    """A started ``serve`` that has run one round (untimed; in quick mode it is the resident's
    memory round); None (and why) if it failed."""
    log_file = bench.cfg.work / "cases" / f"resident-{md.model_set}-{len(md.names)}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        resident = Resident(bench.autopilot_env(md), log_file, args=bench.cfg.serve_args)
        if bench.cfg.quick:  # the smoke test's resident memory round (saves a round a block)
            _all_pending(bench, "resident", md, 0, resident, memory=True, warm_up=True)
            return resident
        bench.new_round()
        bench.sb.reset_counters()
        m, last = resident.run_round(lambda: int(bench.sb.counters()["uploads"]), len(md.names))
        log.info("resident warm-up round (untimed): %.1f s, %s", m.wall, last.get("summary"))
    except (OSError, RuntimeError, TimeoutError) as exc:
        log.warning("resident case not available for %s N=%d: %s", md.model_set, len(md.names), exc)
        bench.resident_notes.append(f"{md.model_set} N={len(md.names)}: failed to start: {exc}")
        return None
    return resident


def idle(bench: Bench, md: models_dir.ModelsDir) -> None:
    """Every model already submitted; the cron process and the script triggered again."""
    rnd = bench.new_round()
    bench.presubmit(md.names, rnd)
    approaches = [a for a in bench.cfg.approaches if a in ("cron", "seed")]
    for rep in range(bench.cfg.idle_reps):
        for approach in rotate(approaches, rep):
            bench.case(approach, md, scenario="submitted", rep=rep, pending=[], rnd=rnd)
