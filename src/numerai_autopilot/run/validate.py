"""Validation: turn a model's predictions into the submission file's frame, or refuse them.

Our own checks come first and say what is wrong in words a user can act on; numerai-tools'
validators then run as the reference (they are Numerai's own rules). Predictions that fail
either are never uploaded.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings

import numpy as np
import pandas as pd

from .._numerai_tools import submissions as numerai_tools_submissions
from ..errors import DataError, PredictionInvalidError
from ..tournaments import Tournament
from .blend import tie_kept_rank

log = logging.getLogger(__name__)
_EXAMPLES = 3


def preload() -> None:
    """Import numerai-tools (scipy, sklearn behind it) on a background thread now, so that
    the first validation does not pay it. Returns at once; a failed import is the first
    validation's to report."""

    def load() -> None:
        with contextlib.suppress(ImportError):
            numerai_tools_submissions()

    threading.Thread(target=load, name="preload-numerai-tools", daemon=True).start()


def build_submission(
    tournament: Tournament, predictions: pd.Series, live_ids: pd.Index, *, rank: bool = False
) -> pd.DataFrame:
    """The submission frame: columns ``[id column, prediction column]`` of the tournament's
    rules, one row per live id in ``live_ids`` order.

    With ``rank``, values are first rank-normalised into (0, 1) (numerai-tools'
    ``tie_kept_rank``). Raises PredictionInvalidError when the ids are not exactly the live
    ids, on NaN/inf, values out of range, zero spread or too few rows; DataError when
    ``live_ids`` itself repeats ids.
    """
    rules = tournament.rules
    if live_ids.has_duplicates:
        raise DataError(f"the {tournament.label} live ids repeat {_dups(live_ids)} ids")
    _check_ids(predictions.index, live_ids)
    try:
        values = predictions.reindex(live_ids).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise PredictionInvalidError(f"predictions are not numbers: {exc}") from exc
    bad = int((~np.isfinite(values.to_numpy())).sum())
    if bad:
        raise PredictionInvalidError(f"{bad} of {len(values)} predictions are NaN or infinite")
    if rank:
        values = tie_kept_rank(values)
    _check_range(tournament, values)
    if len(values) < rules.min_rows:
        raise PredictionInvalidError(
            f"{len(values)} predictions: {tournament.label} needs at least {rules.min_rows} rows"
        )
    if np.isclose(0.0, float(values.std())):
        raise PredictionInvalidError(
            "all predictions are (nearly) the same value: zero spread is refused by Numerai"
        )
    frame = pd.DataFrame(
        {
            rules.id_column: live_ids.astype(str).to_numpy(),
            rules.prediction_column: values.to_numpy(),
        }
    )
    _reference_check(tournament, frame)
    return frame


def _check_ids(ids: pd.Index, live_ids: pd.Index) -> None:
    if ids.equals(live_ids):
        return
    problems = []
    if ids.has_duplicates:
        problems.append(f"{_dups(ids)} ids appear more than once")
    missing = live_ids.difference(ids)
    if len(missing):
        problems.append(f"{len(missing)} live ids missing (e.g. {_few(missing)})")
    extra = ids.difference(live_ids)
    if len(extra):
        problems.append(f"{len(extra)} ids not in the live data (e.g. {_few(extra)})")
    if problems:
        raise PredictionInvalidError(
            f"predictions cover {len(ids)} ids, the live data has {len(live_ids)}: "
            + "; ".join(problems)
        )


def _check_range(tournament: Tournament, values: pd.Series) -> None:
    low, high = float(values.min()), float(values.max())
    if tournament is Tournament.SIGNALS:
        outside = int(((values <= 0) | (values >= 1)).sum())
        interval = "(0, 1)"
    else:
        outside = int(((values < 0) | (values > 1)).sum())
        interval = "[0, 1]"
    if outside:
        raise PredictionInvalidError(
            f"{outside} predictions outside {interval} (min {low:.6g}, max {high:.6g}): "
            "set rank = true for this model to rank-normalise them"
        )


def _reference_check(tournament: Tournament, frame: pd.DataFrame) -> None:
    """numerai-tools' own validator for the tournament; it mutates its input, so copies."""
    nt = numerai_tools_submissions()

    id_col = tournament.rules.id_column
    universe = frame[[id_col]].copy()
    with warnings.catch_warnings():
        # numerai-tools 0.7.2 uses drop(inplace=True), deprecated in pandas 3.1: not ours to fix.
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        try:
            if tournament is Tournament.CLASSIC:
                nt.validate_submission_numerai(universe[id_col].copy(), frame.copy())
            elif tournament is Tournament.SIGNALS:
                nt.validate_submission_signals(universe, frame.copy())
            else:
                nt.validate_submission_crypto(universe, frame.copy())
        except AssertionError as exc:
            raise PredictionInvalidError(f"numerai-tools refused the predictions: {exc}") from exc


def _dups(index: pd.Index) -> int:
    return int(index.duplicated().sum())


def _few(index: pd.Index) -> str:
    return ", ".join(map(str, index[:_EXAMPLES]))
