"""A normal install: the wheel ships data/ and runs the quickstart without the repository.

``pip install .`` installs a wheel, not the repository, so everything the package reads must be in
it.  These tests build the wheel from a copy of the sources, install it into a fresh virtual
environment and run from there, outside the repository.

Marked ``slow`` (about a minute): the isolated wheel build (pip fetches setuptools from PyPI), the
virtual environment, and a quickstart campaign whose numba kernels all compile afresh in the new
location.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from discovery.pcf.known import known_pcfs

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(args, cwd, timeout=600):
    # Nothing in the environment may point back at the repository.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(map(str, args))} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout


def _modules():
    """Dotted names of every module under discovery/ in the repository."""
    root = REPO / "discovery"
    return sorted(".".join(("discovery", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
                  for p in root.rglob("*.py") if p.name != "__main__.py")


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtual environment with the wheel installed; returns its scripts folder."""
    root = tmp_path_factory.mktemp("wheel")
    # The build runs on a copy of its inputs, so it writes nothing (build/, egg-info) into the
    # repository.
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for name in ("discovery", "data"):
        shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", root / "dist", src], root)
    (wheel,) = (root / "dist").glob("discovery-*.whl")
    _run([sys.executable, "-m", "venv", root / "venv"], root)
    scripts = root / "venv" / ("Scripts" if os.name == "nt" else "bin")
    # numpy, numba and the rest come from the environment running the tests, without a download:
    # its package folders, listed in a .pth file, follow the venv's own site-packages on sys.path,
    # so the wheel's discovery shadows an editable one.  (--system-site-packages would give the
    # base interpreter's folders, which lack them when the tests run in a virtual environment.)
    site = Path(_run([scripts / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], root)
                .strip())
    (site / "_test_environment.pth").write_text(
        "".join(f"{p}\n" for p in sys.path if Path(p).name in ("site-packages", "dist-packages")))
    _run([scripts / "python", "-m", "pip", "install", "--no-deps", "--no-index", wheel], root)
    return scripts


def test_the_installed_package_reads_its_data_from_the_wheel(venv, tmp_path):
    probe = (
        "import importlib, json, discovery\n"
        "from discovery.pcf.known import DATA_DIR, known_pcfs\n"
        "print(json.dumps({'package': discovery.__file__, 'data': str(DATA_DIR), 'known': len(known_pcfs()),\n"
        "                  'campaigns': sorted(p.name for p in (DATA_DIR / 'campaigns').iterdir()),\n"
        f"                  'modules': [importlib.import_module(m).__file__ for m in {_modules()!r}]}}))\n"
    )
    found = json.loads(_run([venv / "python", "-c", probe], tmp_path))
    site = venv.parent.resolve()
    assert Path(found["package"]).resolve().is_relative_to(site), found
    assert Path(found["data"]).resolve().is_relative_to(site), found
    assert found["known"] == len(known_pcfs()) > 0
    assert found["campaigns"] == sorted(p.name for p in (REPO / "data" / "campaigns").glob("*.toml"))
    # Every module of the source tree is in the wheel, not found through the editable install.
    assert all(Path(f).resolve().is_relative_to(site) for f in found["modules"]), found["modules"]


def test_the_quickstart_runs_from_the_wheel(venv, tmp_path):
    db = tmp_path / "quick.db"
    out = _run([venv / "discovery", "run", "--db", db, "--quiet"], tmp_path)
    found = re.search(r"formulas found \((\d+)\)", out)
    assert found and int(found.group(1)) > 0, out
    assert "4/pi" in out and db.exists()
