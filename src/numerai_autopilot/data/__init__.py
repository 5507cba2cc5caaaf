"""Data: the round-scoped download cache and column-projected loading.

- :class:`DataCache` -- ``fetch(tournament, round, dataset)`` gives a verified local file,
  downloaded at most once per round (atomic, resumable, sha256-checked); ``evict(path)``
  forgets a file that failed to load, so the next fetch downloads it again
- :func:`load_frame` -- a parquet file, only the needed columns
- :func:`read_feature_sets` -- features.json's feature sets
- :func:`resolve_version` -- the data version to use from ``listDatasets``: the model's own,
  else :func:`default_data_version`; :func:`newer_versions`, :func:`newest_version` -- what
  else is listed (a run warns, and never switches by itself)
"""

from ._cache import DataCache
from ._frames import load_frame, read_feature_sets
from ._versions import (
    available_versions,
    default_data_version,
    newer_versions,
    newest_version,
    resolve_version,
)

__all__ = [
    "DataCache",
    "available_versions",
    "default_data_version",
    "load_frame",
    "newer_versions",
    "newest_version",
    "read_feature_sets",
    "resolve_version",
]
