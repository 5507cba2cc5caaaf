"""One model's container, the way Numerai's CLI deploys a model (the second baseline).

numerai-cli gives every model its own container and runs it when the round opens: a fresh
Python process with an empty disk, which downloads the live data itself, loads it, predicts one
model and uploads with numerapi. This script is that container's ``predict.py``, kept as cheap
as it sensibly can be: it first asks whether the model already has a submission for the round
(numerai-cli's example does not, and would resubmit), and it reads only the model's columns.

Settings come from the environment as numerai-cli passes them: NUMERAI_PUBLIC_ID,
NUMERAI_SECRET_KEY, MODEL_ID, plus MODEL_NAME, MODEL_FILE, MODEL_KIND, FEATURES_FILE, DATA_DIR
(an empty folder) and NUMERAI_API_URL (the local sandbox; set on numerapi's module-level URL).
"""

# A user's script, kept as a user writes it (no types): not held to the project's rules.
# mypy: ignore-errors

import json
import os

import numerapi
import pandas as pd

numerapi.base_api.API_TOURNAMENT_URL = os.environ["NUMERAI_API_URL"]

napi = numerapi.NumerAPI(
    os.environ["NUMERAI_PUBLIC_ID"], os.environ["NUMERAI_SECRET_KEY"], show_progress_bars=False
)
model_id = os.environ["MODEL_ID"]
data_dir = os.environ["DATA_DIR"]
current_round = napi.get_current_round()

if napi.get_submission_filenames(round_num=current_round, model_id=model_id):
    raise SystemExit(0)  # already submitted this round

with open(os.environ["FEATURES_FILE"]) as f:
    features = json.load(f)
live_file = os.path.join(data_dir, f"live_{current_round}.parquet")
napi.download_dataset("v5.2/live.parquet", live_file)
live = pd.read_parquet(live_file, columns=features)

kind, path = os.environ["MODEL_KIND"], os.environ["MODEL_FILE"]
if kind == "lgbm":
    import lightgbm

    predictions = lightgbm.Booster(model_file=path).predict(live[features])
elif kind == "xgb":
    import xgboost

    booster = xgboost.Booster()
    booster.load_model(path)
    predictions = booster.predict(xgboost.DMatrix(live[features]))
else:
    import joblib

    predictions = joblib.load(path).predict(live[features])

submission = pd.DataFrame({"prediction": predictions}, index=live.index).reset_index()
napi.upload_predictions(f"{os.environ['MODEL_NAME']}.csv", model_id=model_id, df=submission)
