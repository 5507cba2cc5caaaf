"""`numerai-autopilot demo`: the whole product on a laptop in under a minute, no account needed.

Starts the sandbox (a local Numerai) in-process, trains three small example models of different
formats on its training data the way a user would (a LightGBM text model for Classic, a joblib
scikit-learn pipeline for Signals, a cloudpickled Model Upload function for Crypto), writes a
models.toml, runs `run`, then runs it again to show that nothing is repeated.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import load_settings
from .tournaments import Tournament

if TYPE_CHECKING:
    import pandas as pd

    from .client import NumeraiClient
    from .run.report import RunReport

log = logging.getLogger(__name__)


def run_demo(workdir: Path | None = None, *, scale: str = "tiny") -> tuple[RunReport, RunReport]:
    """Run the demo in ``workdir`` (a temporary folder when None); return both run reports."""
    from .run.runner import Runner
    from .sandbox import Sandbox

    # The demo is about the autopilot: the sandbox's own request logs would drown it.
    logging.getLogger("numerai_autopilot.sandbox").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="autopilot-demo-") as tmp:
        base = workdir or Path(tmp)
        with Sandbox(scale=scale, seed=0) as sb:  # type: ignore[arg-type]
            settings = load_settings(
                {
                    "api_url": sb.url,
                    "public_id": sb.public_id,
                    "secret_key": sb.secret_key,
                    "models_dir": base / "models",
                    "data_dir": base / "data",
                },
                environ={},
            )
            from .client import NumeraiClient

            with NumeraiClient(sb.url, sb.public_id, sb.secret_key) as client:
                names = {t: _first_model(sb.models, t) for t in Tournament}
                log.info("training three example models in %s", settings.models_dir)
                write_example_models(client, settings.models_dir, base / "train-cache", names)
            with Runner(settings) as runner:
                first = runner.run()
            with Runner(settings) as runner:
                second = runner.run()
            return first, second


def next_steps(kept: Path | None) -> str:
    """What to try after the demo: the same against a sandbox that stays up, then one's own
    account (printed at the end of ``demo``)."""
    where = (
        f"The demo's models and data are in {kept.resolve()} (models.toml, artifacts, ledger)."
        if kept is not None
        else "The demo's models and data were temporary: `demo --keep DIR` keeps them."
    )
    return (
        f"{where}\n"
        "Next: a sandbox that stays up, driven as you would drive your account:\n"
        "  numerai-autopilot sandbox serve   # prints an `export NUMERAI_...` line: paste it\n"
        "                                    # into another terminal, then there:\n"
        "  numerai-autopilot init            # models/models.toml from the account's models\n"
        "  numerai-autopilot plan            # what run would do (exit 1: artifacts to fill in)\n"
        "Your own account: README.md, 'Quick start'."
    )


def _first_model(models: list[dict[str, Any]], t: Tournament) -> str:
    for m in models:
        if int(m["tournament"]) == int(t):
            return str(m["name"])
    raise LookupError(f"the sandbox account has no {t.label} model")


def write_example_models(
    client: NumeraiClient, models_dir: Path, cache_dir: Path, names: dict[Tournament, str]
) -> None:
    """Train the three example models from the API's training data and write models.toml."""
    import cloudpickle
    import joblib
    import lightgbm as lgb
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .data import DataCache, load_frame, read_feature_sets

    models_dir.mkdir(parents=True, exist_ok=True)
    cache = DataCache(cache_dir, client)

    def fetch(t: Tournament, name: str) -> Path:
        rnd = client.current_round(t)
        return cache.fetch(t, rnd.number if rnd else 0, name)

    # Classic: LightGBM on the medium feature set, saved as a native text model.
    features = read_feature_sets(fetch(Tournament.CLASSIC, "v5.2/features.json"))["medium"]
    train = load_frame(
        fetch(Tournament.CLASSIC, "v5.2/train.parquet"), columns=[*features, "target"]
    )
    booster = lgb.train(
        {
            "objective": "regression",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "verbose": -1,
            "colsample_bytree": 0.5,
            "seed": 0,
            "deterministic": True,
            "num_threads": 1,
        },
        lgb.Dataset(train[features], train["target"]),
        num_boost_round=60,
    )
    (models_dir / "classic_lgbm").mkdir(exist_ok=True)
    booster.save_model(str(models_dir / "classic_lgbm" / "model.txt"))

    # Signals: a scikit-learn pipeline saved with joblib (ranked into (0, 1] at submission).
    sig = load_frame(fetch(Tournament.SIGNALS, "signals/v2.1/train.parquet"))
    sig_features = [c for c in sig.columns if c.startswith("feature_")]
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=1.0))
    pipe.fit(sig[sig_features].astype("float32"), sig["target"])
    joblib.dump(pipe, models_dir / "signals_ridge.joblib")

    # Crypto: a Model Upload function, cloudpickled as Numerai's hosted runner expects.
    def predict(live_features: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in live_features.columns if c.startswith("feature_ret")]
        score = live_features[cols].astype("float32").mean(axis=1)
        return score.rank(pct=True).to_frame("prediction")

    with open(models_dir / "crypto_momentum.pkl", "wb") as fh:
        cloudpickle.dump(predict, fh)

    (models_dir / "models.toml").write_text(
        "# Written by `numerai-autopilot demo`: one model per tournament, three formats.\n"
        "# Data versions are omitted: each model uses its tournament's newest listed data.\n\n"
        "[[model]]\n"
        f'name = "{names[Tournament.CLASSIC]}"\n'
        'tournament = "classic"\n'
        'artifact = "classic_lgbm/model.txt"\n\n'
        "[[model]]\n"
        f'name = "{names[Tournament.SIGNALS]}"\n'
        'tournament = "signals"\n'
        'artifact = "signals_ridge.joblib"\n'
        "rank = true\n\n"
        "[[model]]\n"
        f'name = "{names[Tournament.CRYPTO]}"\n'
        'tournament = "crypto"\n'
        'artifact = "crypto_momentum.pkl"\n',
        encoding="utf-8",
    )
