"""Data versions come from listDatasets, compared numerically, never hard-coded."""

from __future__ import annotations

import pytest

from numerai_autopilot.data import (
    default_data_version,
    newer_versions,
    newest_version,
    resolve_version,
)
from numerai_autopilot.errors import ConfigError
from numerai_autopilot.tournaments import Tournament

LISTED = [
    "v5.0/live.parquet",
    "v5.2/features.json",
    "v5.2/live.parquet",
    "v5.10/live.parquet",
    "v5.9/live.parquet",
    "v6.0/train.parquet",  # a newer version without a live file yet
    "signals/v2.0/live.parquet",
    "signals/v2.1/live.parquet",
    "crypto/v2.0/live.parquet",
]


def test_newest_version_with_a_live_file_is_found_numerically() -> None:
    assert newest_version(LISTED, Tournament.CLASSIC) == "v5.10"
    assert newest_version(LISTED, Tournament.SIGNALS) == "v2.1"
    assert newest_version(LISTED, Tournament.CRYPTO) == "v2.0"
    assert newer_versions(LISTED, Tournament.CLASSIC, "v5.2") == ["v5.9", "v5.10"]
    assert newer_versions(LISTED, Tournament.SIGNALS, "v2.1") == []


def test_no_version_named_means_the_written_default_never_the_newest() -> None:
    assert default_data_version(Tournament.CLASSIC) == "v5.2"
    assert resolve_version(LISTED, Tournament.CLASSIC, None) == "v5.2"  # v5.10 is listed
    assert resolve_version(LISTED, Tournament.SIGNALS, None) == "v2.1"
    assert resolve_version(LISTED, Tournament.CRYPTO, None) == "v2.0"
    with pytest.raises(ConfigError, match=r"the default data version v5\.2 is not available"):
        resolve_version(["v5.3/live.parquet"], Tournament.CLASSIC, None)


def test_wanted_version_is_accepted_with_or_without_the_v() -> None:
    assert resolve_version(LISTED, Tournament.CLASSIC, "v5.2") == "v5.2"
    assert resolve_version(LISTED, Tournament.CLASSIC, "5.2") == "v5.2"


def test_unlisted_version_fails_listing_the_available_ones() -> None:
    with pytest.raises(ConfigError, match=r"v4\.3.*v5\.0, v5\.2, v5\.9, v5\.10, v6\.0"):
        resolve_version(LISTED, Tournament.CLASSIC, "v4.3")
    with pytest.raises(ConfigError, match=r"v2\.0, v2\.1"):
        resolve_version(LISTED, Tournament.SIGNALS, "v5.2")  # classic's version is not Signals'


def test_no_versions_at_all_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no crypto dataset versions"):
        resolve_version(["v5.2/live.parquet"], Tournament.CRYPTO, None)
