"""numerapi 3.1.1, unchanged, against the sandbox: every call a user's script makes."""

from __future__ import annotations

from pathlib import Path

import numerapi
import pandas as pd
import pytest

from numerai_autopilot.sandbox import Sandbox
from support.sandbox import round_number
from support.sandbox_http import model_id, predictions


def test_get_current_round_is_the_open_round(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    assert napi.get_current_round() == sb.current_round(8)["number"]
    assert napi.check_round_open() is True


def test_crypto_counts_its_own_rounds(sb: Sandbox, endpoint: str) -> None:
    crypto = numerapi.CryptoAPI(sb.public_id, sb.secret_key)
    assert crypto.get_current_round() == sb.current_round(12)["number"]
    assert sb.current_round(12)["number"] != sb.current_round(8)["number"]


def test_check_round_open_false_once_closed(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    sb.close_round(8)
    assert napi.check_round_open() is False
    sb.open_round(8)
    assert napi.check_round_open() is True


def test_get_models_lists_each_tournaments_models(sb: Sandbox, endpoint: str) -> None:
    for api_class, tournament in (
        (numerapi.NumerAPI, 8),
        (numerapi.SignalsAPI, 11),
        (numerapi.CryptoAPI, 12),
    ):
        api = api_class(sb.public_id, sb.secret_key)
        expected = {m["name"]: m["id"] for m in sb.models if m["tournament"] == tournament}
        assert api.get_models() == expected
        assert len(expected) >= 2


def test_list_datasets_names_versioned_files(sb: Sandbox, endpoint: str) -> None:
    classic = numerapi.NumerAPI().list_datasets()
    assert "v5.2/live.parquet" in classic
    assert "v5.2/features.json" in classic
    assert any(
        n.startswith("signals/") and n.endswith("live.parquet")
        for n in numerapi.SignalsAPI().list_datasets()
    )
    assert any(n.startswith("crypto/") for n in numerapi.CryptoAPI().list_datasets())


def test_download_dataset_whole_matches_served_file(
    sb: Sandbox, napi: numerapi.NumerAPI, tmp_path: Path
) -> None:
    path = napi.download_dataset("v5.2/live.parquet", str(tmp_path / "live.parquet"))
    live = pd.read_parquet(path)
    assert list(live.index) == sb.live_ids(8)
    assert sb.counters()["downloads"] == {"v5.2/live.parquet": 1}


def test_download_dataset_resumes_after_truncated_transfer(
    sb: Sandbox, napi: numerapi.NumerAPI, tmp_path: Path
) -> None:
    dest = tmp_path / "live.parquet"
    sb.inject("truncate", match="live.parquet", bytes=1000)
    with pytest.raises(Exception, match=r"(?i)incomplete|connection|protocol"):
        napi.download_dataset("v5.2/live.parquet", str(dest))
    partial = Path(str(dest) + ".temp")
    # numerapi keeps what arrived in ``<dest>.temp`` and asks for the rest with a Range request
    if partial.stat().st_size == 0:  # requests dropped the short chunk: keep what the server sent
        partial.write_bytes(
            sb.data.dataset_path(
                8,
                round_number(sb),
                "v5.2/live.parquet",
            ).read_bytes()[:1000]
        )
    assert partial.stat().st_size == 1000
    napi.download_dataset("v5.2/live.parquet", str(dest))
    assert list(pd.read_parquet(dest).index) == sb.live_ids(8)
    assert sb.counters()["ranged"] == 1


def test_upload_predictions_classic_is_stored_and_selected(
    sb: Sandbox, napi: numerapi.NumerAPI
) -> None:
    mid = model_id(sb, "anas_platyrhynchos")
    sub_id = napi.upload_predictions(
        df=predictions(sb.live_ids(8), "id", "prediction"), model_id=mid
    )
    (stored,) = sb.submissions("anas_platyrhynchos")
    assert stored["id"] == sub_id
    assert stored["status"] == "on-time"
    assert stored["selected"] is True
    assert stored["round"] == sb.current_round(8)["number"]
    assert list(sb.submission_frame(sub_id)["id"]) == sb.live_ids(8)


def test_upload_predictions_signals(sb: Sandbox, endpoint: str) -> None:
    api = numerapi.SignalsAPI(sb.public_id, sb.secret_key)
    mid = model_id(sb, "pica_pica")
    sub_id = api.upload_predictions(
        df=predictions(sb.live_ids(11), "numerai_ticker", "signal"), model_id=mid
    )
    assert [s["id"] for s in sb.submissions("pica_pica")] == [sub_id]
    assert sb.submissions("pica_pica")[0]["tournament"] == 11


def test_upload_predictions_crypto(sb: Sandbox, endpoint: str) -> None:
    api = numerapi.CryptoAPI(sb.public_id, sb.secret_key)
    mid = model_id(sb, "buteo_buteo")
    sub_id = api.upload_predictions(
        df=predictions(sb.live_ids(12), "symbol", "prediction"), model_id=mid
    )
    (stored,) = sb.submissions("buteo_buteo")
    assert stored["id"] == sub_id
    assert stored["round"] == sb.current_round(12)["number"]


def test_latest_valid_submission_is_selected(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    mid = model_id(sb, "netta_rufina")
    frame = predictions(sb.live_ids(8), "id", "prediction")
    first = napi.upload_predictions(df=frame, model_id=mid)
    second = napi.upload_predictions(df=frame, model_id=mid)
    selected = {s["id"]: s["selected"] for s in sb.submissions(mid)}
    assert selected == {first: False, second: True}
    files = napi.get_submission_filenames(model_id=mid)
    assert [f["filename"] for f in files] == [sb.submissions(mid)[1]["filename"]]


def test_submission_ids_filenames_and_download(
    sb: Sandbox, napi: numerapi.NumerAPI, tmp_path: Path
) -> None:
    mid = model_id(sb, "corvus_corone")
    frame = predictions(sb.live_ids(8), "id", "prediction")
    sub_id = napi.upload_predictions("my preds.csv", df=frame, model_id=mid)
    (listed,) = napi.submission_ids(mid)
    assert listed["id"] == sub_id
    assert listed["filename"].startswith("my_preds-")
    # numerapi leaves insertedAt a string here (its replace() is given a list): ISO with offset
    assert listed["insertedAt"].endswith("Z")
    (named,) = napi.get_submission_filenames(model_id=mid)
    assert named == {
        "round_num": sb.current_round(8)["number"],
        "tournament": 8,
        "filename": listed["filename"],
    }
    path = napi.download_submission(model_id=mid, dest_path=str(tmp_path / "back.csv"))
    back = pd.read_csv(path)
    pd.testing.assert_frame_equal(back, frame)


def test_server_filename_is_stem_dash_12_alphanumerics(
    sb: Sandbox, napi: numerapi.NumerAPI
) -> None:
    mid = model_id(sb, "anas_platyrhynchos")
    napi.upload_predictions(
        "preds.csv", df=predictions(sb.live_ids(8), "id", "prediction"), model_id=mid
    )
    name = str(sb.submissions(mid)[0]["filename"])
    stem, _, rest = name.partition("-")
    assert stem == "preds"
    assert rest.endswith(".csv")
    assert len(rest) == 16 and rest[:12].isalnum()


def test_set_submission_webhook_answers_true(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    mid = model_id(sb, "anas_platyrhynchos")
    assert napi.set_submission_webhook(mid, "http://127.0.0.1:9/hook") is True
    model = sb.state.find_model(mid)
    assert model is not None
    assert model.webhook == "http://127.0.0.1:9/hook"


def test_model_upload_stores_pickle_and_blocks_api_submissions(
    sb: Sandbox, napi: numerapi.NumerAPI, tmp_path: Path
) -> None:
    pickle_file = tmp_path / "model.pkl"
    pickle_file.write_bytes(b"\x80\x05N.")
    mid = model_id(sb, "netta_rufina")
    upload_id = napi.model_upload(
        str(pickle_file), model_id=mid, data_version="v5.2", docker_image="Python 3.12"
    )
    assert upload_id
    with pytest.raises(ValueError, match="Model Upload"):
        napi.upload_predictions(df=predictions(sb.live_ids(8), "id", "prediction"), model_id=mid)


def test_bad_key_answers_session_invalid(sb: Sandbox, endpoint: str) -> None:
    api = numerapi.NumerAPI("NOTAKEY", "NOTASECRET")
    with pytest.raises(ValueError, match=r"^Your session is invalid or has expired\.$"):
        api.get_models()


def test_missing_scope_answers_insufficient_permission(sb: Sandbox, endpoint: str) -> None:
    public_id, secret = sb.add_key(["read_user_info"])
    api = numerapi.NumerAPI(public_id, secret)
    assert api.get_models()  # the scope it has works
    frame = predictions(sb.live_ids(8), "id", "prediction")
    with pytest.raises(ValueError, match=r"^Insufficient permission for upload_submission$"):
        api.upload_predictions(df=frame, model_id=model_id(sb, "anas_platyrhynchos"))


def test_foreign_model_id_is_not_found(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    _, _, foreign = sb.add_account("someone_else")
    frame = predictions(sb.live_ids(8), "id", "prediction")
    with pytest.raises(ValueError, match="Model not found"):
        napi.upload_predictions(df=frame, model_id=str(foreign[0]["id"]))


def test_invalid_submission_refused_with_numerai_tools_message(
    sb: Sandbox, napi: numerapi.NumerAPI
) -> None:
    frame = predictions(sb.live_ids(8)[:-1], "id", "prediction")  # one live id missing
    with pytest.raises(ValueError, match="invalid_submission_ids"):
        napi.upload_predictions(df=frame, model_id=model_id(sb, "anas_platyrhynchos"))
    assert sb.submissions() == []


def test_round_closed_submission_refused_when_late_not_accepted(
    sb: Sandbox, napi: numerapi.NumerAPI
) -> None:
    sb.close_round(8)
    sb.set_late_submissions(False)
    frame = predictions(sb.live_ids(8), "id", "prediction")
    with pytest.raises(ValueError, match=r"^Current round not open for submissions$"):
        napi.upload_predictions(df=frame, model_id=model_id(sb, "anas_platyrhynchos"))


def test_submission_after_close_is_late(sb: Sandbox, napi: numerapi.NumerAPI) -> None:
    sb.close_round(8)
    frame = predictions(sb.live_ids(8), "id", "prediction")
    napi.upload_predictions(df=frame, model_id=model_id(sb, "anas_platyrhynchos"))
    assert [s["status"] for s in sb.submissions()] == ["late"]
