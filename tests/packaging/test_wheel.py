"""The wheel and sdist from ``uv build``: installed into a fresh virtual environment, as pipx or uv tool do.

``uv build`` makes the sdist and then the wheel from the sdist, so a file missing from the sdist shows up as
a broken wheel. The wheel is installed with ``uv pip install`` into a new venv of this interpreter
(dependencies from uv's cache, else the package index) and run from outside the repository, so nothing of
the source tree is found by accident.
"""

from __future__ import annotations

import os
import shutil
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging_env import DOCTOR_LABELS, REPO, Sandbox, explain, run

from tracker import __version__
from tracker.paths import APP_ID

pytestmark = pytest.mark.slow



def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` names itself in $UV
    if not uv:
        pytest.fail(
            "uv is needed to build and install the wheel (the README's test command is `uv run pytest`)"
        )
    return uv


def _uv_env(box: Sandbox) -> dict[str, str]:
    """The sandbox environment, but uv keeps its own cache (the wheels of PySide6 and the rest)."""
    cache = run([_uv(), "cache", "dir"], dict(os.environ), cwd=REPO)
    assert cache.returncode == 0, explain(cache)
    return box.env(UV_CACHE_DIR=cache.stdout.strip(), UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built by ``uv build`` from this repository."""
    out = tmp_path_factory.mktemp("uv-build")
    box = Sandbox(out / "user")
    result = run(
        [_uv(), "build", "--out-dir", str(out / "dist"), str(REPO)], _uv_env(box), cwd=out, timeout=600
    )
    assert result.returncode == 0, explain(result)
    (sdist,) = (out / "dist").glob("*.tar.gz")
    (wheel,) = (out / "dist").glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def venv(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; its ``bin`` folder."""
    root = tmp_path_factory.mktemp("venv")
    box = Sandbox(root / "user")
    env = _uv_env(box)
    made = run([_uv(), "venv", "--python", sys.executable, str(root / "venv")], env, cwd=root)
    assert made.returncode == 0, explain(made)
    python = root / "venv" / "bin" / "python"
    installed = run(
        [_uv(), "pip", "install", "--python", str(python), str(built[1])], env, cwd=root, timeout=900
    )
    assert installed.returncode == 0, explain(installed)
    return python.parent


def test_sdist_holds_the_sources_resources_and_packaging(built: tuple[Path, Path]) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for wanted in (
        "pyproject.toml",
        "README.md",
        "tracker/__init__.py",
        "tracker/resources.py",
        f"resources/icons/{APP_ID}.svg",
        f"resources/linux/{APP_ID}.desktop",
        "packaging/pyinstaller/token-ledger.spec",
        "packaging/pyinstaller/build.py",
        "packaging/README.md",
    ):
        assert wanted in names, wanted


def test_wheel_ships_resources_inside_the_package(built: tuple[Path, Path]) -> None:
    _, wheel = built
    assert wheel.name.startswith(f"token_ledger-{__version__}-")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "token-ledger = tracker.cli:main" in zf.read(entry_points).decode()
    assert f"tracker/_resources/icons/{APP_ID}.svg" in names
    assert f"tracker/_resources/icons/png/256x256/{APP_ID}.png" in names
    assert f"tracker/_resources/linux/{APP_ID}.metainfo.xml" in names
    assert not [n for n in names if n.startswith(("tests/", "resources/", "packaging/"))]


def test_installed_command_runs(venv: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "user")
    version = run([str(venv / "token-ledger"), "--version"], box.env(), cwd=tmp_path)
    assert version.returncode == 0, explain(version)
    assert version.stdout.strip() == f"token-ledger, version {__version__}"

    doctor = run([str(venv / "token-ledger"), "--data-dir", str(box.data), "doctor"], box.env(), cwd=tmp_path)
    assert doctor.returncode == 0, explain(doctor)
    lines = doctor.stdout.splitlines()
    for label in DOCTOR_LABELS:
        assert any(line.startswith(label) for line in lines), f"no {label!r} line:\n{doctor.stdout}"


def test_resources_are_found_inside_site_packages(venv: Path, tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "user")
    code = (
        "import sysconfig, tracker, tracker.resources as r;"
        f"print(r.resource_path('icons', '{APP_ID}.svg'));"
        "print(sysconfig.get_paths()['purelib']);"
        "print(tracker.__file__)"
    )
    result = run([str(venv / "python"), "-c", code], box.env(), cwd=tmp_path)  # cwd: not the repository
    assert result.returncode == 0, explain(result)
    icon, site, package = (Path(line) for line in result.stdout.splitlines())
    assert icon.is_file()
    assert icon.is_relative_to(Path(site) / "tracker" / "_resources"), (icon, site)
    assert Path(package).is_relative_to(site)
