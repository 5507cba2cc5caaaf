"""Checks an uploaded submission file as Numerai does, with numerai-tools, against live ids."""

from __future__ import annotations

import io
import logging

import pandas as pd

from .._numerai_tools import submissions as numerai_tools_submissions
from ..errors import InvalidSubmissionError
from ..tournaments import Tournament

logger = logging.getLogger(__name__)


def read_submission(data: bytes, filename: str) -> pd.DataFrame:
    """Parse a CSV or Parquet submission; InvalidSubmissionError when it is neither."""
    try:
        if data[:4] == b"PAR1" or filename.lower().endswith(".parquet"):
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))
    except Exception as exc:  # pandas/pyarrow raise many types for a bad file
        raise InvalidSubmissionError(
            f"invalid_submission_file: could not read {filename} as CSV or Parquet ({exc})"
        ) from exc


def validate_submission(tournament: int, frame: pd.DataFrame, live_ids: list[str]) -> None:
    """Raise InvalidSubmissionError with numerai-tools' message when ``frame`` is refused."""
    nt = numerai_tools_submissions()
    # The Signals validators modify their input: always hand them copies.
    sub = frame.copy()
    try:
        if tournament == Tournament.CLASSIC:
            nt.validate_submission_numerai(pd.Series(live_ids), sub)
        elif tournament == Tournament.SIGNALS:
            universe = pd.DataFrame({"numerai_ticker": live_ids})
            id_col = next((c for c in sub.columns if c in nt.SIGNALS_ALLOWED_ID_COLS), None)
            if id_col not in (None, "numerai_ticker"):
                raise InvalidSubmissionError(
                    f"invalid_submission_ids: the sandbox's universe only knows numerai_ticker,"
                    f" not {id_col}"
                )
            nt.validate_submission_signals(universe, sub)
        elif tournament == Tournament.CRYPTO:
            nt.validate_submission_crypto(pd.DataFrame({"symbol": live_ids}), sub)
        else:
            raise InvalidSubmissionError(f"unknown tournament {tournament}")
    except AssertionError as exc:  # numerai-tools reports every refusal as an assertion
        raise InvalidSubmissionError(str(exc)) from exc
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidSubmissionError(f"invalid_submission: {exc}") from exc
