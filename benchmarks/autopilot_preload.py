"""The autopilot's ``run``, with one change measured, not shipped: the prediction workers' fork
server imports the model libraries once and starts while the data downloads.

Today each worker forks from a fork server that has imported pandas and numpy only, so every
model pays ``import lightgbm`` / ``xgboost`` / ``sklearn`` again (about 1-1.5 s of CPU each on
this machine). Importing a library does not start its OpenMP pool, so forking after the import
stays safe. This wrapper adds the installed model libraries to the fork server's preload list
and starts the server before the run begins (its imports overlap the download), then runs the
unchanged CLI. run/worker.py is owned by another engineer: this is the evidence for a change.
"""

import importlib.util
import multiprocessing.forkserver
import sys

LIBRARIES = [
    lib
    for lib in ("lightgbm", "xgboost", "sklearn", "joblib", "catboost", "onnxruntime")
    if importlib.util.find_spec(lib) is not None
]


def main() -> int:
    original = multiprocessing.forkserver.set_forkserver_preload

    def preload_more(names: list[str]) -> None:
        original([*names, *LIBRARIES])

    multiprocessing.forkserver.set_forkserver_preload = preload_more  # type: ignore[assignment]

    from numerai_autopilot.cli import main as cli_main
    from numerai_autopilot.run import worker

    worker.warm_up([])  # start the fork server now: its imports overlap the download
    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
