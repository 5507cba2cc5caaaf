"""The registry of formats is the one table every consumer reads, and it agrees with itself
and with the project's packaging."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from numerai_autopilot.config import FORMATS
from numerai_autopilot.models.formats import (
    REGISTRY,
    FormatSpec,
    extra_for_library,
    format_for_head,
    format_for_suffix,
    get_format,
)

ROOT = Path(__file__).resolve().parents[2]


def test_config_accepts_exactly_the_registered_names() -> None:
    assert tuple(f.name for f in REGISTRY) == FORMATS


@pytest.mark.parametrize("fmt", [f for f in REGISTRY if f.loader is not None], ids=str)
def test_every_loader_resolves_to_a_function(fmt: FormatSpec) -> None:
    assert callable(fmt.load())


def test_suffixes_are_lower_case_and_claimed_once() -> None:
    suffixes = [s for f in REGISTRY for s in f.suffixes]
    assert len(suffixes) == len(set(suffixes))
    assert all(s == s.lower() and s.startswith(".") for s in suffixes)
    assert format_for_suffix(".ONNX") is get_format("onnx")
    assert format_for_head(b"tree\nversion=v4") is get_format("lightgbm")
    assert format_for_suffix(".txt") is None


def test_every_extra_is_declared_in_pyproject() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    for fmt in REGISTRY:
        if fmt.extra is not None:
            assert fmt.extra in extras, fmt.name
            assert fmt.libraries, fmt.name
            assert all(extra_for_library(lib) == fmt.extra for lib in fmt.libraries)


def test_only_artifact_free_formats_lack_an_artifact() -> None:
    assert {f.name for f in REGISTRY if not f.needs_artifact} == {"entrypoint", "blend"}
    assert {f.name for f in REGISTRY if f.loader is None} == {"blend"}


def test_the_registry_imports_without_pandas_or_model_libraries() -> None:
    # config reads the registry at import, and the command line starts without pandas.
    code = (
        "import sys, numerai_autopilot.config, numerai_autopilot.models;"
        "heavy = {'pandas', 'numpy', 'lightgbm', 'sklearn'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
