"""Names for the synthetic data: features, feature sets, targets, tickers, crypto symbols.

Names depend only on the version and scale, never on the seed, so a model trained against one
sandbox keeps its feature list valid against another. Older versions use a prefix of the newest
version's feature list (Numerai appends new features), so a v5.0 model runs on v5.2 data.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

_Array: TypeAlias = "np.ndarray[Any, np.dtype[Any]]"

Scale = str  # "tiny" | "full"; checked once in SyntheticData


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJECTIVES = _words(
    "abating unadaptive ablest accessorial acrid adagio adroit aggrieved airy alar alkaline "
    "amative ambient ample anaemic angular antic apian arcuate arty ascetic astral august "
    "balmy baric bashful beery benign bifid blotchy bonny bossy briny brisk bumpy burled "
    "cagy calyptrate canny carmine cerulean chewy civic clammy coarse cosy craven crinite "
    "damask deft dewy dinky dowdy droll dusky eclectic elfin emery epigeal errant ethic "
    "fabled faddy fathomless feline fetial fizzy florid frowzy fugal gamy genial gibbous "
    "glassy gnomic gouty grizzly gummy gyral hardy hazy hempen hoary humid hyoid icky"
)
_NOUNS = _words(
    "escape leeway gong marble bluebell ditch pennant thicket quilt anvil beacon cistern "
    "dune ember fennel gasket harbor inlet jasper kettle lantern mantle nettle orchard "
    "paddock quarry rampart saddle tallow umber vessel wicket yarrow zither almond bracken "
    "cobble dormer eyelet falcon garnet hollow isthmus juniper kestrel lintel meadow nimbus "
    "osprey parapet quiver rivulet sorrel trellis upland verge willow bastion canopy dowel "
    "estuary furrow gable heron ingot jetty keel ledger moraine nook oriel plinth"
)

# Named feature groups like Numerai's (v5.0 lacked "agility": 17 sets there, 18 in v5.2).
_GROUPS = _words(
    "serenity sunshine rain midnight intelligence charisma strength dexterity "
    "constitution wisdom agility"
)
# Sets selecting a share of the feature list, the way Numerai keeps older-model equivalents.
_SHARE_SETS = (
    ("fncv3_features", 0.15),
    ("v2_equivalent_features", 0.11),
    ("v3_equivalent_features", 0.38),
    ("v4_equivalent_features", 0.55),
)

CLASSIC_VERSIONS = ("v5.0", "v5.1", "v5.2", "v5.3")
SIGNALS_VERSIONS = ("v2.0", "v2.1")
CRYPTO_VERSIONS = ("v2.0",)

# Feature counts per version: (tiny, full). Full v5.2 matches Numerai's 2,748; v5.3 appends
# "quantum" features (as Numerai's v5.3 did; the count here is the sandbox's own).
_FEATURE_COUNTS = {
    "v5.0": (32, 2376),
    "v5.1": (36, 2562),
    "v5.2": (40, 2748),
    "v5.3": (46, 2876),
}
# v5.3's small set swaps this many of v5.2's small features for quantum ones: a model that
# reads "small" sees different columns on v5.3 than on v5.2.
_SMALL_SWAPS = {"tiny": 3, "full": 10}
# small/medium sizes of the newest version; older versions keep the part inside their prefix.
_SMALL = {"tiny": 10, "full": 42}
_MEDIUM = {"tiny": 25, "full": 780}

_TARGET_STEMS = _words(
    "cyrusd ender teager2b agnes claudia jeremy rowan tyler victor waldo xerxes caroline"
)


@dataclass(frozen=True)
class TargetSpec:
    """One target column: its name and how much noise separates it from the latent signal."""

    name: str
    noise: float
    horizon: int


def stable_int(text: str) -> int:
    """A stable (process-independent) integer for a string, for seeding named streams."""
    return zlib.crc32(text.encode())


def _name_rng(*parts: str) -> np.random.Generator:
    return np.random.default_rng([stable_int(p) for p in parts])


@functools.cache
def master_features() -> tuple[str, ...]:
    """The newest version's full-size feature list; every other list is a prefix of it.

    v5.2's names are drawn first (so they never change), then the names v5.3 appends."""
    base = _FEATURE_COUNTS["v5.2"][1]
    total = _FEATURE_COUNTS[CLASSIC_VERSIONS[-1]][1]
    combos = len(_ADJECTIVES) * len(_ADJECTIVES) * len(_NOUNS)
    picks = _name_rng("feature-names").choice(combos, size=base, replace=False).tolist()
    taken = set(picks)
    extra = _name_rng("feature-names-v5.3").permutation(combos).tolist()
    picks += [p for p in extra if p not in taken][: total - base]
    a, rest = np.divmod(np.array(picks), len(_ADJECTIVES) * len(_NOUNS))
    b, c = np.divmod(rest, len(_NOUNS))
    return tuple(
        f"feature_{_ADJECTIVES[i]}_{_ADJECTIVES[j]}_{_NOUNS[k]}"
        for i, j, k in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)
    )


def feature_count(version: str, scale: Scale) -> int:
    """How many features a version has at a scale."""
    return _FEATURE_COUNTS[version][0 if scale == "tiny" else 1]


def _ordered(members: _Array, names: tuple[str, ...]) -> list[str]:
    """Names at the given positions, in the order of the full list (as Numerai's sets are)."""
    return [names[i] for i in np.sort(members).tolist()]


@functools.cache
def _nested_sets(scale: Scale) -> tuple[_Array, _Array]:
    """Positions of the newest version's small and medium sets (small is inside medium)."""
    total = _FEATURE_COUNTS["v5.2"][0 if scale == "tiny" else 1]
    rng = _name_rng("feature-sets", scale)
    medium = rng.choice(total, size=_MEDIUM[scale], replace=False)
    small = rng.choice(medium, size=_SMALL[scale], replace=False)
    return np.sort(small), np.sort(medium)


def feature_sets(version: str, scale: Scale) -> dict[str, list[str]]:
    """features.json's ``feature_sets`` for a version: small, medium, all, then named groups."""
    count = feature_count(version, scale)
    names = master_features()[:count]
    small, medium = _nested_sets(scale)
    sets: dict[str, list[str]] = {
        "small": _ordered(small[small < count], names),
        "medium": _ordered(medium[medium < count], names),
        "all": list(names),
    }
    base = feature_count("v5.2", scale)
    if count > base:  # v5.3: the quantum features, some of them in place of small ones
        quantum = list(range(base, count))
        swaps = _SMALL_SWAPS[scale]
        sets["small"] = _ordered(np.concatenate([small[:-swaps], quantum[:swaps]]), names)
    groups = _GROUPS if version >= "v5.2" else _GROUPS[:-1]
    # Round-robin over a fixed shuffle: every group is non-empty even at tiny scale.
    order = _name_rng("feature-groups", scale).permutation(feature_count("v5.2", scale))
    order = order[order < count]
    for g, group in enumerate(groups):
        sets[group] = _ordered(order[g :: len(groups)], names)
    for set_name, share in _SHARE_SETS:
        size = max(1, round(count * share))
        picks = _name_rng(set_name, scale).permutation(count)[:size]
        sets[set_name] = _ordered(picks, names)
    if count > base:
        sets["quantum"] = list(names[base:])
    return sets


def targets(version: str) -> list[TargetSpec]:
    """Target columns of a version: ``target`` (= target_cyrusd_20) first, then 20/60-day ones."""
    # One stem fewer per version before v5.2; v5.3 kept v5.2's targets.
    older = max(0, CLASSIC_VERSIONS.index("v5.2") - CLASSIC_VERSIONS.index(version))
    stems = _TARGET_STEMS[: len(_TARGET_STEMS) - older]
    specs = [TargetSpec("target", 2.5, 20)]
    for i, stem in enumerate(stems):
        specs.append(TargetSpec(f"target_{stem}_20", 2.5 + 0.1 * i, 20))
        specs.append(TargetSpec(f"target_{stem}_60", 3.5 + 0.1 * i, 60))
    return specs


_COUNTRIES = ("US", "US", "US", "US", "JP", "JP", "GB", "CA", "DE", "FR", "CH", "AU", "HK", "KR")
PINNED_TICKERS = ("AAPL US", "MSFT US", "ZURN CH", "NESN CH", "7203 JP", "VOD LN", "SAP GR")
PINNED_SYMBOLS = _words(
    "BTC ETH SOL XRP ADA DOGE DOT LTC LINK AVAX MATIC ATOM XLM BCH TRX NEAR UNI ETC FIL APT"
)
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def _codes(rng: np.random.Generator, count: int, low: int, high: int) -> list[str]:
    lengths = rng.integers(low, high + 1, size=count)
    letters = _LETTERS[rng.integers(0, 26, size=(count, high))]
    return ["".join(row[:n]) for row, n in zip(letters.tolist(), lengths.tolist(), strict=True)]


@functools.cache
def ticker_pool(size: int) -> tuple[str, ...]:
    """``size`` distinct Signals tickers like "ZURN CH"; the pinned real ones come first."""
    rng = _name_rng("tickers")
    seen = dict.fromkeys(PINNED_TICKERS)
    while len(seen) < size:  # bounded: each pass adds most of what is missing
        codes = _codes(rng, size, 2, 4)
        countries = rng.choice(_COUNTRIES, size=size).tolist()
        for code, country in zip(codes, countries, strict=True):
            seen.setdefault(f"{code} {country}")
    return tuple(seen)[:size]


@functools.cache
def symbol_pool(size: int) -> tuple[str, ...]:
    """``size`` distinct crypto symbols; well-known ones (BTC, ETH, ...) first."""
    rng = _name_rng("symbols")
    seen = dict.fromkeys(PINNED_SYMBOLS)
    while len(seen) < size:
        for code in _codes(rng, size, 3, 5):
            seen.setdefault(code)
    return tuple(seen)[:size]


SIGNALS_FEATURES = tuple(
    f"feature_{name}_factor"
    for name in _words(
        "adv_20d beta book_to_price dividend_yield earnings_yield growth impact_cost "
        "market_cap momentum_12w momentum_26w momentum_52w price trix_60d value volatility"
    )
)
CRYPTO_FEATURES = tuple(
    f"feature_{name}"
    for name in _words(
        "ret_1d ret_3d ret_7d ret_14d ret_30d ret_60d vol_7d vol_30d vol_90d volume_7d "
        "volume_30d turnover_7d turnover_30d mcap_rank skew_30d kurt_30d drawdown_90d "
        "beta_btc_30d beta_eth_30d funding_7d open_interest_7d dominance_30d"
    )
)
