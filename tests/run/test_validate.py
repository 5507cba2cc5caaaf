"""Validation turns predictions into the submission frame, or refuses them with a reason;
numerai-tools' validators agree with what passes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numerai_tools.scoring import tie_kept_rank as nt_tie_kept_rank

from numerai_autopilot.errors import DataError, PredictionInvalidError
from numerai_autopilot.run.validate import build_submission
from numerai_autopilot.tournaments import Tournament


def ids(n: int, prefix: str = "n") -> pd.Index:
    return pd.Index([f"{prefix}{i:05d}" for i in range(n)], name="id")


def preds(index: pd.Index, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.uniform(0.05, 0.95, len(index)), index=index)


def test_classic_submission_has_id_and_prediction_in_live_order() -> None:
    live = ids(20)
    p = preds(live).iloc[::-1]  # any order in, live order out
    frame = build_submission(Tournament.CLASSIC, p, live)
    assert list(frame.columns) == ["id", "prediction"]
    assert list(frame["id"]) == list(live)
    np.testing.assert_array_equal(frame["prediction"], p.reindex(live).to_numpy())


@pytest.mark.parametrize(
    ("tournament", "columns"),
    [
        (Tournament.SIGNALS, ["numerai_ticker", "signal"]),
        (Tournament.CRYPTO, ["symbol", "prediction"]),
    ],
)
def test_signals_and_crypto_use_their_own_columns(
    tournament: Tournament, columns: list[str]
) -> None:
    live = pd.Index([f"T{i} US" for i in range(120)], name=columns[0])
    frame = build_submission(tournament, preds(live), live)
    assert list(frame.columns) == columns
    assert len(frame) == 120


def test_missing_ids_are_counted() -> None:
    live = ids(30)
    with pytest.raises(PredictionInvalidError, match=r"cover 27 ids.*has 30: 3 live ids missing"):
        build_submission(Tournament.CLASSIC, preds(live).iloc[3:], live)


def test_extra_ids_are_counted() -> None:
    live = ids(30)
    p = pd.concat([preds(live), preds(ids(2, "x"))])
    with pytest.raises(PredictionInvalidError, match=r"2 ids not in the live data \(e\.g\. x00000"):
        build_submission(Tournament.CLASSIC, p, live)


def test_duplicate_ids_are_counted() -> None:
    live = ids(30)
    p = pd.concat([preds(live), preds(live[:4])])
    with pytest.raises(PredictionInvalidError, match="4 ids appear more than once"):
        build_submission(Tournament.CLASSIC, p, live)


def test_duplicate_live_ids_are_a_data_error() -> None:
    live = ids(10).append(ids(1))
    with pytest.raises(DataError, match="repeat 1 ids"):
        build_submission(Tournament.CLASSIC, preds(ids(10)), live)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_refused(bad: float) -> None:
    live = ids(30)
    p = preds(live)
    p.iloc[[1, 5]] = bad
    with pytest.raises(PredictionInvalidError, match="2 of 30 predictions are NaN or infinite"):
        build_submission(Tournament.CLASSIC, p, live)


def test_out_of_range_values_are_refused_with_a_hint_to_rank() -> None:
    live = ids(30)
    p = preds(live) * 3 - 1
    with pytest.raises(PredictionInvalidError, match=r"outside \[0, 1\].*set rank = true"):
        build_submission(Tournament.CLASSIC, p, live)


def test_rank_normalises_like_numerai_tools() -> None:
    live = ids(40)
    p = preds(live) * 10 - 5
    p.iloc[:6] = 1.0  # ties keep a shared rank
    shuffled = p.sample(frac=1.0, random_state=1)  # numerai-tools needs sorted; we do not
    frame = build_submission(Tournament.CLASSIC, shuffled, live, rank=True)
    expected = nt_tie_kept_rank(p.sort_index()).reindex(live)
    np.testing.assert_allclose(frame["prediction"].to_numpy(), expected.to_numpy())
    assert frame["prediction"].between(0, 1, inclusive="neither").all()


def test_signals_refuses_exact_zero_and_one() -> None:
    live = pd.Index([f"T{i} US" for i in range(120)], name="numerai_ticker")
    p = preds(live)
    p.iloc[0] = 0.0
    with pytest.raises(PredictionInvalidError, match=r"1 predictions outside \(0, 1\)"):
        build_submission(Tournament.SIGNALS, p, live)


def test_classic_accepts_the_closed_interval() -> None:
    live = ids(10)
    p = pd.Series(np.linspace(0.0, 1.0, 10), index=live)
    assert len(build_submission(Tournament.CLASSIC, p, live)) == 10


def test_zero_spread_is_refused() -> None:
    live = ids(30)
    with pytest.raises(PredictionInvalidError, match="zero spread"):
        build_submission(Tournament.CLASSIC, pd.Series(0.5, index=live), live)


def test_too_few_rows_for_signals() -> None:
    live = pd.Index([f"T{i} US" for i in range(50)], name="numerai_ticker")
    with pytest.raises(PredictionInvalidError, match="signals needs at least 100 rows"):
        build_submission(Tournament.SIGNALS, preds(live), live)


def test_non_numeric_predictions_are_refused() -> None:
    live = ids(5)
    with pytest.raises(PredictionInvalidError, match="not numbers"):
        build_submission(Tournament.CLASSIC, pd.Series(list("abcde"), index=live), live)


def test_numerai_tools_reference_check_is_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    from numerai_tools import submissions

    def refuse(universe: pd.Series, submission: pd.DataFrame) -> None:
        raise AssertionError("invalid_submission_values: from the reference")

    monkeypatch.setattr(submissions, "validate_submission_numerai", refuse)
    live = ids(10)
    with pytest.raises(PredictionInvalidError, match=r"numerai-tools refused.*from the reference"):
        build_submission(Tournament.CLASSIC, preds(live), live)


@pytest.mark.filterwarnings("ignore:.*inplace keyword")
def test_what_passes_also_passes_numerai_tools_unchanged() -> None:
    from numerai_tools.submissions import (
        validate_submission_crypto,
        validate_submission_numerai,
        validate_submission_signals,
    )

    live = ids(25)
    frame = build_submission(Tournament.CLASSIC, preds(live), live)
    validate_submission_numerai(pd.Series(live), frame.copy())
    tickers = pd.Index([f"T{i} US" for i in range(150)], name="numerai_ticker")
    frame = build_submission(Tournament.SIGNALS, preds(tickers), tickers, rank=True)
    validate_submission_signals(pd.DataFrame({"numerai_ticker": tickers}), frame.copy())
    symbols = pd.Index([f"S{i}" for i in range(100)], name="symbol")
    frame = build_submission(Tournament.CRYPTO, preds(symbols), symbols)
    validate_submission_crypto(pd.DataFrame({"symbol": symbols}), frame.copy())


_PROBE = """
import json, sys
import pandas as pd
from numerai_autopilot.run.validate import numerai_tools_submissions
{before}
nt = numerai_tools_submissions()
seen = {{m: m in sys.modules for m in ("scipy", "sklearn", "numerai_tools.scoring")}}
s = pd.Series([0.3, 0.1, 0.1, 0.9])
ranked = nt.tie_kept_rank(s).tolist()  # imports the real scoring now, on first call
from numerai_tools import scoring
print(json.dumps({{"seen": seen, "ranked": ranked, "real": scoring.tie_kept_rank(s).tolist(),
    "neutralize": hasattr(scoring, "neutralize"), "same": nt is numerai_tools_submissions()}}))
"""


@pytest.mark.parametrize("scoring_first", [False, True])
def test_numerai_tools_validators_load_without_scipy_and_sklearn(scoring_first: bool) -> None:
    # submissions imports scoring (scipy.stats, scikit-learn: 1-1.5 s of CPU a run) only for
    # tie_kept_rank: it is a stand-in while submissions imports, and the real module after.
    before = "import numerai_tools.scoring" if scoring_first else ""
    p = subprocess.run(
        [sys.executable, "-c", _PROBE.format(before=before)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["seen"] == {
        "scipy": scoring_first,
        "sklearn": scoring_first,
        "numerai_tools.scoring": scoring_first,
    }
    assert out["ranked"] == out["real"] == list(nt_tie_kept_rank(pd.Series([0.3, 0.1, 0.1, 0.9])))
    assert out["neutralize"] and out["same"]
