"""``python -m benchmarks [--quick]``: run the benchmark of issue 11 and write its report.

Full mode (``make bench``): N = 1, 5, 20 distinct example-size LightGBM models and a mix of 20
(LightGBM, joblib, XGBoost); seed-style script, cron-started autopilot and resident autopilot;
3 repetitions (5 for the idle case). Writes benchmarks/results/ and the figures in
docs/performance.md and the README. Quick mode (``make bench-quick``): the same cases with
small models, N = 1 and 3, one repetition; results in <work>/results-quick/, docs untouched.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import sys
from pathlib import Path

from . import session
from .bench import APPROACHES, Bench, Config
from .report import machine, write, write_docs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _approaches(text: str) -> list[str]:
    names = [x for x in text.split(",") if x]
    bad = [x for x in names if x not in APPROACHES]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {APPROACHES}")
    return names


def _cache_default() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "numerai-autopilot-bench"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small models, N=1,3, one repetition")
    p.add_argument("--ns", type=_ints, help="LightGBM model counts (default 1,5,20; quick 1,3)")
    p.add_argument("--mix-ns", type=_ints, help="mix model counts (default 20; quick 3)")
    p.add_argument("--reps", type=int, help="repetitions per case (default 3, quick 1)")
    p.add_argument("--idle-reps", type=int, help="repetitions of the idle case (5, quick 1)")
    p.add_argument("--approaches", type=_approaches, help="default seed,cron,resident")
    p.add_argument("--bandwidth", type=float, default=12.5e6, help="download cap, bytes/s")
    p.add_argument("--prepare-budget", type=float, help="s for all `models prepare` (600; 90)")
    p.add_argument(
        "--fresh-prepare",
        action="store_true",
        help="drop the compiled cache an earlier session prepared (kept by default)",
    )
    p.add_argument(
        "--serve-arg",
        action="append",
        default=[],
        help="an extra option for the resident `serve` (repeat; e.g. a warm mode's flag)",
    )
    p.add_argument("--work", type=Path, default=HERE / ".work", help="scratch (git-ignored)")
    p.add_argument("--cache", type=Path, default=_cache_default(), help="trained models, data")
    p.add_argument("--out", type=Path, help="results dir (default benchmarks/results)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs and README")
    p.add_argument("--from-records", type=Path, help="only rewrite the report from records.json")
    args = p.parse_args(argv)

    if args.from_records:
        doc = json.loads(args.from_records.read_text())
        print(write(args.out or args.from_records.parent, doc["records"], doc["meta"]))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "numerai_autopilot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    quick = args.quick
    cfg = Config(
        ns=args.ns if args.ns is not None else ([1, 3] if quick else [1, 5, 20]),
        mix_ns=args.mix_ns if args.mix_ns is not None else ([3] if quick else [20]),
        reps=args.reps or (1 if quick else 3),
        idle_reps=args.idle_reps if args.idle_reps is not None else (1 if quick else 5),
        approaches=args.approaches or ["seed", "cron", "resident"],
        bandwidth=int(args.bandwidth),
        work=args.work,
        cache=args.cache,
        quick=quick,
        prepare_budget=args.prepare_budget or (90.0 if quick else 600.0),
        serve_args=list(args.serve_arg),
        fresh_prepare=args.fresh_prepare,
    )
    out = args.out or (cfg.work / "results-quick" if quick else HERE / "results")
    started = datetime.datetime.now(datetime.UTC)
    load_start = [round(x, 2) for x in os.getloadavg()]
    with Bench(cfg) as bench:
        live = bench.live_path()
        import pyarrow.parquet as pq

        md = pq.ParquetFile(live).metadata
        live_bytes = live.stat().st_size  # this round's file is pruned later
        try:
            session.run(bench)
        finally:
            meta = {
                "date": started.strftime("%Y-%m-%d %H:%M UTC"),
                "seconds": round((datetime.datetime.now(datetime.UTC) - started).total_seconds()),
                "quick": quick,
                "bandwidth": cfg.bandwidth,
                "cores": cfg.cores,
                "live_bytes": live_bytes,
                "live_shape": f"{md.num_rows:,} rows x {md.num_columns:,} columns",
                "inference": bench.infer,
                "engine": bench.engine,
                "prepares": bench.prepares,
                "resident": bench.resident_notes,
                "memory": bench.memory,
                "train_cpu": bench.trained.seconds,
                "load_start": load_start,
                "subreaper": bench.subreaper,
                "machine": machine(),
                "config": {
                    "ns": cfg.ns,
                    "mix_ns": cfg.mix_ns,
                    "reps": cfg.reps,
                    "idle_reps": cfg.idle_reps,
                    "approaches": cfg.approaches,
                    "prepare_budget": cfg.prepare_budget,
                    "serve_args": cfg.serve_args,
                    "fresh_prepare": cfg.fresh_prepare,
                },
            }
            if bench.records:
                print(write(out, bench.records, meta))
                if not quick and not args.no_docs:
                    write_docs(ROOT, bench.records, meta)
                print(f"\nwritten to {out}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:  # Ctrl-C: the cases so far are written (main's finally)
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
