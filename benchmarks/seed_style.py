"""The seed blog post's submission script, written faithfully with numerapi (the baseline).

"Automatizing Numerai submissions: sanitizing the submission script": secrets and folders from
the environment; one ``get_submission_filenames`` call per model to find the ones still waiting;
the data file downloaded once if any model waits; then, model after model, the parquet file is
loaded again ("I load csv or parquet file every time I predict a model. Just in case one of my
models unadvertedly modifies the data in memory"), the model predicts, and numerapi uploads.

Only two things differ from the post, both forced: the endpoint is the local sandbox
(``NUMERAI_API_URL``, set on numerapi's module-level URL), and the list of models, which the post
hard-codes, is read from ``seed_models.json`` in the models dir (name -> artifact file and kind).
The file name is today's (``v5.2/live.parquet``) instead of 2021's tournament file.

Run as a script: ``python benchmarks/seed_style.py``; it prints nothing but numerapi's own output.
"""

# A user's script, kept as written (names, style, no types): not held to the project's rules.
# ruff: noqa: SIM112, PLR0917
# mypy: ignore-errors

import json
import os

import numerapi
import pandas as pd

numerapi.base_api.API_TOURNAMENT_URL = os.environ["NUMERAI_API_URL"]

numeraiUserName = os.environ["NumeraiUserName"]
numeraiAccessKey = os.environ["NumeraiAccessKey"]
napi = numerapi.NumerAPI(numeraiUserName, numeraiAccessKey)

dataDirectory = os.environ["Numerai_DataDir"]
modelsDirectory = os.environ["Numerai_ModelsDir"]

current_round = napi.get_current_round()
numeraiModels = napi.get_models()

with open(os.path.join(modelsDirectory, "seed_models.json")) as f:
    myModels = json.load(f)
featuresFilePath = os.path.join(modelsDirectory, "features.json")
with open(featuresFilePath) as f:
    featureNames = json.load(f)

waitingModels = []
downloadedData = False
liveParquetFile = os.path.join(dataDirectory, "live.parquet")

for model in myModels:
    submission = napi.get_submission_filenames(
        round_num=current_round, model_id=numeraiModels[model]
    )
    if len(submission) == 0:
        waitingModels += [model]
        if not downloadedData:
            napi.download_dataset(filename="v5.2/live.parquet", dest_path=liveParquetFile)
            downloadedData = True


def loadModel(kind, path):
    if kind == "lgbm":
        import lightgbm

        return lightgbm.Booster(model_file=path)
    if kind == "xgb":
        import xgboost

        booster = xgboost.Booster()
        booster.load_model(path)
        return booster
    import joblib

    return joblib.load(path)


def predict(kind, model, features):
    if kind == "xgb":
        import xgboost

        return model.predict(xgboost.DMatrix(features))
    return model.predict(features)


def uploadModel(dataFile, featureNames, napi, modelId, modelName, modelPath, kind):
    live = pd.read_parquet(dataFile)  # reloaded for every model, as in the post
    model = loadModel(kind, modelPath)
    predictions = predict(kind, model, live[featureNames])
    submission = pd.DataFrame({"prediction": predictions}, index=live.index)
    predictionsFile = os.path.join(dataDirectory, f"{modelName}_predictions.csv")
    submission.to_csv(predictionsFile)
    napi.upload_predictions(predictionsFile, model_id=modelId)


for model in myModels:
    if model in waitingModels:
        uploadModel(
            liveParquetFile,
            featureNames,
            napi,
            numeraiModels[model],
            model,
            os.path.join(modelsDirectory, myModels[model]["artifact"]),
            myModels[model]["kind"],
        )
