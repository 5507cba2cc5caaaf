"""The three Numerai tournaments and what differs between them."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Tournament(enum.IntEnum):
    """Numerai's tournament numbers, as the API's ``tournament`` fields carry them."""

    CLASSIC = 8
    SIGNALS = 11
    CRYPTO = 12

    @property
    def label(self) -> str:
        """The lowercase name used in the models file: classic, signals, crypto."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Tournament:
        """Parse ``classic``/``signals``/``crypto`` (or the number); ValueError otherwise."""
        text = label.strip().lower()
        for t in cls:
            if text in (t.label, str(int(t))):
                return t
        raise ValueError(f"unknown tournament {label!r}: use classic, signals or crypto")

    @property
    def rules(self) -> TournamentRules:
        return _RULES[self]


@dataclass(frozen=True)
class TournamentRules:
    """Dataset layout and submission shape of one tournament."""

    dataset_prefix: str
    """Dataset name prefix before the version: ``""`` (v5.2/...), ``signals/``, ``crypto/``."""
    id_column: str
    """Column (or index name) holding the live ids: id, numerai_ticker, symbol."""
    prediction_column: str
    """Column name of the predictions in the submitted file."""
    live_file: str
    """Live data file name inside a version folder."""
    min_rows: int
    """Least number of rows a submission must have (Signals/Crypto: 100)."""


_RULES = {
    Tournament.CLASSIC: TournamentRules("", "id", "prediction", "live.parquet", 1),
    Tournament.SIGNALS: TournamentRules(
        "signals/", "numerai_ticker", "signal", "live.parquet", 100
    ),
    Tournament.CRYPTO: TournamentRules("crypto/", "symbol", "prediction", "live.parquet", 100),
}
