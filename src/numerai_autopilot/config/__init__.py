"""One typed configuration, read at the edge: settings (flags > environment > defaults) and the
models file. Only this package reads environment variables and configuration files.

Secrets may come from ``NAME_FILE`` (a path to a file holding the value: Docker and Kubernetes
secrets). A wrong value fails at start-up with a :class:`ConfigError` naming the setting, or the
models file, the entry and the field.

What is where (import from here, not from the private modules):

- ``_settings`` -- :class:`Settings`, :class:`SettingsSource`, :func:`load_settings`,
  :func:`salvage_settings`, the variable table and the sealing of secret variables
  (:func:`seal_secret_environ`, :func:`process_environ`)
- ``_models_file`` -- :class:`ModelSpec`, :class:`ModelsConfig`, :func:`load_models_file`,
  :func:`parse_models`, :func:`name_key`
- ``_models_schema`` -- the models file's TOML shape as ``_fields`` checks it, the formats
  (:data:`FORMATS`), and its error messages
- ``_shard`` -- :class:`ShardSpec` (``K/N``), :func:`parse_shard`, and the engines' index
  variables (:func:`shard_from_engine`)
- ``_limits`` -- the bounds of the numbers a user sets (``MAX_*``)
- ``_fields`` -- a value checked against its field (type, bounds, validators), strict or
  lax, with pydantic's words: what both tables are built with
"""

from ._limits import MAX_BLEND_WEIGHT, MAX_HTTP_TIMEOUT, MAX_MEMORY_MB, MAX_MODEL_TIMEOUT
from ._models_file import (
    MODELS_FILE,
    ModelsConfig,
    ModelSpec,
    load_models_file,
    name_key,
    parse_models,
)
from ._models_schema import FORMATS, Format, ModelDefaults
from ._settings import _SEALED as _SEALED
from ._settings import _SECRET_FIELDS as _SECRET_FIELDS
from ._settings import _SETTINGS_ENV as _SETTINGS_ENV
from ._settings import (
    DEFAULT_API_URL,
    SECRET_OPTIONS,
    Settings,
    SettingsSource,
    load_settings,
    process_environ,
    salvage_settings,
    seal_secret_environ,
    secret_env_names,
)
from ._shard import MAX_SHARDS, SHARD_VAR, SHARDS_VAR, ShardSpec, parse_shard, shard_from_engine

__all__ = [
    "DEFAULT_API_URL",
    "FORMATS",
    "MAX_BLEND_WEIGHT",
    "MAX_HTTP_TIMEOUT",
    "MAX_MEMORY_MB",
    "MAX_MODEL_TIMEOUT",
    "MAX_SHARDS",
    "MODELS_FILE",
    "SECRET_OPTIONS",
    "SHARDS_VAR",
    "SHARD_VAR",
    "Format",
    "ModelDefaults",
    "ModelSpec",
    "ModelsConfig",
    "Settings",
    "SettingsSource",
    "ShardSpec",
    "load_models_file",
    "load_settings",
    "name_key",
    "parse_models",
    "parse_shard",
    "process_environ",
    "salvage_settings",
    "seal_secret_environ",
    "secret_env_names",
    "shard_from_engine",
]
