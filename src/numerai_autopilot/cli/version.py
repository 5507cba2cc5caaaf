"""``numerai-autopilot --version``: the version of the installed distribution."""

from __future__ import annotations

DISTRIBUTION = "numerai-autopilot"


def installed_version() -> str:
    """The version pip/uv recorded for the installed distribution (its metadata, so a wheel
    and an editable install both answer from what was actually installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # imported from a source tree that was never installed
        from .. import __version__

        return f"{__version__} (not installed: from source)"


def version_line() -> str:
    import sys

    return f"{DISTRIBUTION} {installed_version()} (Python {sys.version.split()[0]})"
