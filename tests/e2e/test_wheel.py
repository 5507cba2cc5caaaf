"""The wheel a user installs from (``pip install dist/*.whl``) holds every module and the
package data the commands read (the Bicep of ``deploy azure``, py.typed), built offline with
the project's own build backend."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "numerai_autopilot"


def test_the_wheel_has_every_module_the_package_data_and_the_console_script(
    tmp_path: Path,
) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    wheel = tmp_path / built.stdout.strip().splitlines()[-1]
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        str(p.relative_to(PACKAGE.parent))
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected - names == set(), "in src/ but not in the wheel"
    assert "numerai_autopilot/deploy/bicep/main.bicep" in names
    assert "numerai_autopilot/py.typed" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    dist_info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(dist_info).decode()
    assert "numerai-autopilot = numerai_autopilot.cli:main" in entry_points
