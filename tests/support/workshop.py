"""Real model artifacts of every format, trained on the sandbox's own training data, plus the
independent reference predictions the end-to-end tests compare submissions against.

Training is deterministic (fixed seeds, one thread), so an :class:`ArtifactCache` shared by
the session (the ``artifacts`` fixture) trains each kind of artifact once and hands its bytes
to every later workshop whose training data has the same checksum."""

from __future__ import annotations

import hashlib
import pickle
import textwrap
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path

import cloudpickle
import joblib
import numpy as np
import pandas as pd

from numerai_autopilot.client import NumeraiClient
from numerai_autopilot.data import DataCache, load_frame, read_feature_sets
from numerai_autopilot.sandbox import Sandbox
from numerai_autopilot.tournaments import Tournament

C, S, K = Tournament.CLASSIC, Tournament.SIGNALS, Tournament.CRYPTO

Reference = Callable[[pd.DataFrame, pd.DataFrame | None], pd.Series]


@dataclass
class Entry:
    name: str
    tournament: Tournament
    toml: str
    reference: Reference | None
    """Predictions computed independently from the artifact (None: checked another way)."""


@dataclass
class ArtifactCache:
    """Artifact bytes by (training data checksum, kind of artifact): trained once a session."""

    made: dict[tuple[str, Hashable], bytes] = field(default_factory=dict)
    trained: int = 0
    """How many artifacts were really trained (the others came from the cache)."""

    def artifact(
        self, digest: str, kind: Hashable, path: Path, train: Callable[[Path], None]
    ) -> None:
        """Write the artifact ``kind`` to ``path``: from the cache, else ``train(path)``."""
        key = (digest, kind)
        if key in self.made:
            path.write_bytes(self.made[key])
            return
        train(path)
        self.trained += 1
        self.made[key] = path.read_bytes()


class Workshop:
    """Trains artifacts against one sandbox into one models dir (through ``artifacts`` when
    given: then each kind is trained once per session)."""

    def __init__(
        self,
        sb: Sandbox,
        models_dir: Path,
        cache_dir: Path,
        artifacts: ArtifactCache | None = None,
    ) -> None:
        self.sb = sb
        self.artifacts = artifacts or ArtifactCache()
        self.dir = models_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.client = NumeraiClient(sb.url, sb.public_id, sb.secret_key)
        self.cache = DataCache(cache_dir, self.client)
        self.entries: list[Entry] = []
        rnd = self.client.current_round(C)
        assert rnd is not None
        self.round = rnd.number
        self.fsets = read_feature_sets(self.cache.fetch(C, rnd.number, "v5.2/features.json"))
        self.small = self.fsets["small"]
        train_path = self.cache.fetch(C, rnd.number, "v5.2/train.parquet")
        self.digest = hashlib.sha256(train_path.read_bytes()).hexdigest()
        train = load_frame(train_path)
        self.X, self.y = train[self.small].astype("float32"), train["target"]

    def close(self) -> None:
        self.client.close()

    def model(self, name: str, tournament: Tournament) -> str:
        """Register ``name`` in the sandbox account (if new) and return it."""
        if not any(m["name"] == name for m in self.sb.models):
            self.sb.add_model(name, int(tournament))
        return name

    def add(
        self,
        name: str,
        t: Tournament,
        toml: str,
        ref: Reference | None,
    ) -> None:
        self.model(name, t)
        body = f'[[model]]\nname = "{name}"\ntournament = "{t.label}"\n' + textwrap.dedent(toml)
        self.entries.append(Entry(name, t, body, ref))

    def write_toml(self) -> None:
        (self.dir / "models.toml").write_text("\n".join(e.toml for e in self.entries))

    # -- formats --------------------------------------------------------------------------

    def lightgbm(self, name: str, *, rename: dict[str, str] | None = None) -> None:
        """A LightGBM text model; ``rename`` trains it under other feature names (to make a
        model that needs a feature the live data lacks)."""
        import lightgbm as lgb

        X = self.X.rename(columns=rename) if rename else self.X

        def train(path: Path) -> None:
            params = {"objective": "regression", "verbose": -1, "num_leaves": 7}
            params |= {"num_threads": 1, "seed": 0}
            lgb.train(params, lgb.Dataset(X, self.y), 20).save_model(str(path))

        path = self.dir / f"{name}.txt"
        kind = ("lightgbm", tuple(sorted((rename or {}).items())))
        self.artifacts.artifact(self.digest, kind, path, train)
        feats = list(X.columns)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            b = lgb.Booster(model_file=str(path))
            return pd.Series(b.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def xgboost(self, name: str) -> None:
        import xgboost as xgb

        def train(path: Path) -> None:
            m = xgb.XGBRegressor(n_estimators=15, max_depth=3, n_jobs=1)
            m.fit(self.X, self.y)
            m.get_booster().save_model(str(path))

        path = self.dir / f"{name}.json"
        self.artifacts.artifact(self.digest, "xgboost", path, train)
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            b = xgb.Booster()
            b.load_model(str(path))
            d = xgb.DMatrix(live[feats].astype("float32"), feature_names=feats)
            return pd.Series(b.predict(d), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def catboost(self, name: str) -> None:
        from catboost import CatBoostRegressor

        def train(path: Path) -> None:
            m = CatBoostRegressor(
                iterations=20, depth=3, verbose=False, thread_count=1, random_seed=0
            )
            m.fit(self.X, self.y)
            m.save_model(str(path))

        path = self.dir / f"{name}.cbm"
        self.artifacts.artifact(self.digest, "catboost", path, train)
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            c = CatBoostRegressor()
            c.load_model(str(path))
            return pd.Series(c.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def onnx(self, name: str) -> None:
        import onnxruntime as ort
        from skl2onnx import to_onnx
        from sklearn.linear_model import Ridge

        def train(path: Path) -> None:
            m = Ridge().fit(self.X.to_numpy(), self.y)
            path.write_bytes(to_onnx(m, self.X.to_numpy()[:1]).SerializeToString())

        path = self.dir / f"{name}.onnx"
        self.artifacts.artifact(self.digest, "onnx", path, train)
        feats = list(self.small)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            x = live[feats].to_numpy(dtype=np.float32)
            out = s.run(None, {s.get_inputs()[0].name: x})[0]
            return pd.Series(np.asarray(out).reshape(-1), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nfeatures = "small"\nrank = true\n', ref)

    def sklearn_pickle(self, name: str, *, use_joblib: bool = False) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor

        def train(path: Path) -> None:
            m = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(self.X, self.y)
            if use_joblib:
                joblib.dump(m, path)
            else:
                path.write_bytes(pickle.dumps(m))

        path = self.dir / (f"{name}.joblib" if use_joblib else f"{name}.pkl")
        self.artifacts.artifact(self.digest, ("sklearn", use_joblib), path, train)
        feats = list(self.small)
        m = joblib.load(path) if use_joblib else pickle.loads(path.read_bytes())

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return pd.Series(m.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, C, f'artifact = "{path.name}"\nrank = true\n', ref)

    def function(self, name: str, *, two_params: bool = False) -> None:
        feats = list(self.small)

        def with_bench(live: pd.DataFrame, bench: pd.DataFrame) -> pd.DataFrame:
            col = bench.columns[0]
            return bench.loc[live.index, [col]].rename(columns={col: "prediction"})

        def live_only(live: pd.DataFrame) -> pd.DataFrame:
            s = live[feats].astype("float32").mean(axis=1)
            return s.rank(pct=True).to_frame("prediction")

        path = self.dir / f"{name}.pkl"
        path.write_bytes(cloudpickle.dumps(with_bench if two_params else live_only))

        def ref(live: pd.DataFrame, bench: pd.DataFrame | None) -> pd.Series:
            assert bench is not None or not two_params
            out = with_bench(live, bench) if bench is not None and two_params else live_only(live)
            return out["prediction"]

        self.add(name, C, f'artifact = "{path.name}"\n', ref)

    def entrypoint(self, name: str) -> None:
        (self.dir / "my_models.py").write_text(
            textwrap.dedent("""
            def predict(live):
                cols = [c for c in live.columns if c.startswith("feature_")][:5]
                return live[cols].astype("float32").sum(axis=1).rank(pct=True)
        """)
        )

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            cols = [c for c in live.columns if c.startswith("feature_")][:5]
            return live[cols].astype("float32").sum(axis=1).rank(pct=True)

        self.add(name, C, 'entrypoint = "my_models:predict"\n', ref)

    def predictions_file(self, name: str) -> None:
        ids = self.sb.live_ids(int(C))
        preds = pd.Series(np.linspace(0.01, 0.99, len(ids)), index=pd.Index(ids, name="id"))
        preds.rename("prediction").to_frame().to_csv(self.dir / f"{name}.csv")

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return preds.reindex(live.index)

        self.add(name, C, f'artifact = "{name}.csv"\n', ref)

    def blend(self, name: str, parts: dict[str, float]) -> None:
        weights = ", ".join(f"{k} = {v}" for k, v in parts.items())
        self.add(name, C, f"blend = {{ {weights} }}\n", None)

    def signals_joblib(self, name: str) -> None:
        from sklearn.linear_model import Ridge

        rnd = self.client.current_round(S)
        assert rnd is not None
        train_path = self.cache.fetch(S, rnd.number, "signals/v2.1/train.parquet")
        train = load_frame(train_path)
        feats = [c for c in train.columns if c.startswith("feature_")]

        def fit(path: Path) -> None:
            joblib.dump(Ridge().fit(train[feats].astype("float32"), train["target"]), path)

        path = self.dir / f"{name}.joblib"
        digest = hashlib.sha256(train_path.read_bytes()).hexdigest()
        self.artifacts.artifact(digest, "signals-ridge", path, fit)
        m = joblib.load(path)

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return pd.Series(m.predict(live[feats].astype("float32")), index=live.index)

        self.add(name, S, f'artifact = "{name}.joblib"\nrank = true\n', ref)

    def crypto_function(self, name: str) -> None:
        def predict(live: pd.DataFrame) -> pd.Series:
            cols = [c for c in live.columns if c.startswith("feature_")]
            return live[cols].astype("float32").mean(axis=1).rank(pct=True)

        (self.dir / f"{name}.pkl").write_bytes(cloudpickle.dumps(predict))

        def ref(live: pd.DataFrame, _b: pd.DataFrame | None) -> pd.Series:
            return predict(live)

        self.add(name, K, f'artifact = "{name}.pkl"\n', ref)
