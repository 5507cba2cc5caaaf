"""Prepare the compiled models of a configured models file (the commands' one library call)."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Settings, load_models_file
from ..errors import ConfigError
from ._prepare import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, Prepared, prepare
from ._store import CompiledStore


def store_for(settings: Settings) -> CompiledStore:
    """The compiled cache of these settings: ``<state>/compiled``, beside the data cache."""
    return CompiledStore(settings.state_path / "compiled")


def prepare_models(
    settings: Settings,
    only: Sequence[str] | None = None,
    *,
    memory_mb: int = DEFAULT_MEMORY_MB,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Prepared]:
    """Compile and verify the LightGBM models of the models file (``only``: these names)."""
    specs = load_models_file(settings.models_dir).models
    if only:
        unknown = sorted(set(only) - {s.name for s in specs})
        if unknown:
            raise ConfigError(f"no model named {', '.join(unknown)} in {settings.models_file}")
        specs = [s for s in specs if s.name in set(only)]
    return prepare(specs, store_for(settings), memory_mb=memory_mb, timeout=timeout)
