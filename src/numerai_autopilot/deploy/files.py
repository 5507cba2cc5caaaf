"""The deployment files: the Bicep shipped inside the package (package data, so a
pip-installed user has it), and the repository's deploy/ folder rendered from one source.

``repo_files()`` is what ``deploy/kubernetes/cronjob.yaml``, ``deploy/systemd/*`` and
``deploy/azure/*`` contain: a test keeps them equal, so the slots and settings can never drift
between the CLI's output, the package and the files a user copies.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from .slots import RECOMMENDED
from .triggers import cron_lines, k8s_cronjob, systemd_units

# Where `pipx install` and `pip install --user` put the console script; systemd expands %h.
REPO_EXECUTABLE = "%h/.local/bin/numerai-autopilot"
CRON_EXECUTABLE = "$HOME/.local/bin/numerai-autopilot"


BICEP_NAME = "main.bicep"
PARAMETERS_NAME = "main.parameters.json"


def bicep_text() -> str:
    """The Container Apps Job's Bicep, as shipped in the package."""
    return resources.files(__package__).joinpath("bicep", BICEP_NAME).read_text(encoding="utf-8")


def packaged_bicep() -> Path:
    """The installed main.bicep as a file ``az`` can read (ConfigError if the package is not
    installed as plain files, e.g. from a zip: then ``--out DIR`` writes a copy)."""
    found = resources.files(__package__).joinpath("bicep", BICEP_NAME)
    if not isinstance(found, Path) or not found.is_file():
        raise ConfigError(
            f"the packaged {BICEP_NAME} is not a plain file here ({found}): pass --out DIR"
        )
    return found


def repo_files() -> dict[str, str]:
    """Relative path (from the repository root) -> the file's text."""
    from .azure import AzureParams

    out = {
        "deploy/kubernetes/cronjob.yaml": k8s_cronjob(RECOMMENDED),
        f"deploy/azure/{BICEP_NAME}": bicep_text(),
        f"deploy/azure/{PARAMETERS_NAME}": AzureParams().parameters_text(),
    }
    for name, text in systemd_units(RECOMMENDED, executable=REPO_EXECUTABLE).items():
        out[f"deploy/systemd/{name}"] = text
    out["deploy/systemd/numerai-autopilot.crontab"] = cron_lines(
        RECOMMENDED, executable=CRON_EXECUTABLE
    )
    return out


def write_repo_files(root: Path) -> list[Path]:
    """Write :func:`repo_files` under ``root`` (the maintainers' regeneration step)."""
    written = []
    for rel, text in repo_files().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
