"""A full-size round (about 6,800 live rows x 2,748 int8 features) generated, served and
downloaded by numerapi in a few seconds. Figures are logged for the benchmark notes."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numerapi
import numerapi.base_api
import pandas as pd
import pytest

from numerai_autopilot.sandbox import Sandbox
from support.sandbox import round_number

logger = logging.getLogger(__name__)


@pytest.mark.slow
def test_full_size_round_generated_served_and_downloaded_fast(tmp_path: Path) -> None:
    saved = numerapi.base_api.API_TOURNAMENT_URL
    with Sandbox(scale="full", state_dir=tmp_path / "state", cache_dir=tmp_path / "cache") as sb:
        numerapi.base_api.API_TOURNAMENT_URL = sb.url
        try:
            started = time.monotonic()
            source = sb.data.dataset_path(8, round_number(sb), "v5.2/live.parquet")
            generated = time.monotonic() - started
            api = numerapi.NumerAPI(sb.public_id, sb.secret_key, show_progress_bars=False)
            started = time.monotonic()
            path = api.download_dataset("v5.2/live.parquet", str(tmp_path / "live.parquet"))
            downloaded = time.monotonic() - started
        finally:
            numerapi.base_api.API_TOURNAMENT_URL = saved
        size = Path(path).stat().st_size
        live = pd.read_parquet(path)
        figures = f"generation {generated:.2f} s, {size:,} bytes, download {downloaded:.2f} s"
        logger.warning("full-size live.parquet: %s", figures)
        print(figures)
        assert size == source.stat().st_size
        assert 6_500 <= len(live) <= 7_000
        assert sum(c.startswith("feature_") for c in live.columns) == 2_748
        assert generated + downloaded < 30
        assert sb.counters()["downloads"] == {"v5.2/live.parquet": 1}
