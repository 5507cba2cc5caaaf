"""``python -m benchmarks [--quick]``: run the benchmark and write benchmarks/results/.

Full mode (``make bench``): N = 1, 5, 20, 50; all pending, half pending, all already submitted;
3 repetitions (5 for already submitted); Numerai's example-model-sized boosters. Quick mode
(CI): N = 1 and 5, one repetition, tiny boosters, all three approaches side by side.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import sys
from pathlib import Path

from .bench import APPROACHES, LIVE, SCENARIOS, Bench, Config
from .report import machine, write

HERE = Path(__file__).resolve().parent


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _names(allowed: tuple[str, ...]) -> type:
    def parse(text: str) -> list[str]:
        names = [x for x in text.split(",") if x]
        bad = [x for x in names if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {allowed}")
        return names

    return parse  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--quick", action="store_true", help="CI mode: N=1,5, one repetition")
    p.add_argument("--ns", type=_ints, help="model counts, e.g. 1,5,20,50")
    p.add_argument("--reps", type=int, help="repetitions per case (default 3, quick 1)")
    p.add_argument("--submitted-reps", type=int, help="repetitions when all are submitted (5)")
    p.add_argument("--scenarios", type=_names(SCENARIOS), default=None)
    p.add_argument(
        "--approaches",
        type=_names(APPROACHES),
        help="default: all (quick: autopilot, seed, container; no preload experiment)",
    )
    p.add_argument(
        "--bandwidth",
        type=float,
        default=12.5e6,
        help="download cap in bytes/s (default 12.5e6 = 100 Mbit/s)",
    )
    p.add_argument("--work", type=Path, default=HERE / ".work", help="scratch and caches")
    p.add_argument(
        "--from-records",
        type=Path,
        help="only rewrite the report from the records.json of an earlier run",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="results dir (default benchmarks/results; quick: <work>/results-quick)",
    )
    args = p.parse_args(argv)

    if args.from_records:
        import json

        doc = json.loads(args.from_records.read_text())
        out = args.out or args.from_records.parent
        print(write(out, doc["records"], doc["meta"]))
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for noisy in ("httpx", "httpcore", "numerai_autopilot"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    quick = args.quick
    cfg = Config(
        ns=args.ns or ([1, 5] if quick else [1, 5, 20, 50]),
        reps=args.reps or (1 if quick else 3),
        submitted_reps=args.submitted_reps or (1 if quick else 5),
        scenarios=args.scenarios or (["pending", "submitted"] if quick else list(SCENARIOS)),
        approaches=args.approaches or [a for a in APPROACHES if not (quick and a == "preload")],
        bandwidth=int(args.bandwidth),
        work=args.work,
        quick=quick,
    )
    # Quick results are a CI check, not the record: they stay in the (ignored) work dir.
    out = args.out or (cfg.work / "results-quick" if quick else HERE / "results")
    started = datetime.datetime.now(datetime.UTC)
    load_start = [round(x, 2) for x in os.getloadavg()]
    with Bench(cfg) as bench:
        live = bench._file_size(LIVE)
        import pyarrow.parquet as pq

        rnd = bench.round()
        md = pq.ParquetFile(bench.sb.data.dataset_path(8, rnd, LIVE)).metadata
        try:
            bench.run()
        finally:
            meta = {
                "date": started.strftime("%Y-%m-%d %H:%M UTC"),
                "quick": quick,
                "bandwidth": cfg.bandwidth,
                "cores": cfg.cores,
                "live_bytes": live,
                "live_shape": f"{md.num_rows:,} rows x {md.num_columns:,} columns",
                "inference": bench.infer,
                "artifact_bytes": {k: bench.trained.path(k).stat().st_size for k in bench.infer},
                "train_seconds": bench.trained.train_seconds,
                "load_start": load_start,
                "subreaper": bench.subreaper,
                "machine": machine(),
                "config": {
                    "ns": cfg.ns,
                    "reps": cfg.reps,
                    "submitted_reps": cfg.submitted_reps,
                    "scenarios": cfg.scenarios,
                    "approaches": cfg.approaches,
                },
            }
            if bench.records:
                print(write(out, bench.records, meta))
                print(f"\nwritten to {out}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
