"""``numerai-autopilot serve`` as shipped, for the benchmark's resident case, with one change
that is not about speed: webhook calls are never folded into the previous run.

``serve`` folds a call that comes less than 60 s after the last run started into that run
(Numerai calls once per round, a day apart). The benchmark triggers a round's run every few
seconds, so it sets that interval to 0; everything else is the CLI's ``serve`` unchanged.

Run as ``python benchmarks/resident_serve.py [serve options]``.
"""

import functools
import sys

from numerai_autopilot.cli import main
from numerai_autopilot.schedule import serve


def run() -> int:
    serve.start_server = functools.partial(serve.start_server, min_interval=0.0)
    sys.argv = ["numerai-autopilot", "serve", *sys.argv[1:]]
    return main()


if __name__ == "__main__":
    raise SystemExit(run())
