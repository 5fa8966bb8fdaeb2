"""The shipped Linux desktop entry and AppStream metadata: valid for desktop-file-validate and appstreamcli, and
consistent with the app (id, icon, version, licence).

The validators come from Debian's desktop-file-utils and appstream (.ci/run installs them). Without them a local
run skips these checks; in CI (``CI`` set) a missing validator fails the test instead.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tracker import __version__, resources
from tracker.paths import APP_ID

REPO = Path(__file__).resolve().parents[2]
DESKTOP = resources.resource_path("linux", f"{APP_ID}.desktop")
METAINFO = resources.resource_path("linux", f"{APP_ID}.metainfo.xml")


def tool(name: str) -> str:
    """The validator's path; skip when it is missing on a developer's machine, fail when it is missing in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (Debian: desktop-file-utils / appstream; .ci/run installs them)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def validate_desktop_file(path: Path) -> None:
    done = subprocess.run([tool("desktop-file-validate"), str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def read_desktop(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_is_valid() -> None:
    validate_desktop_file(DESKTOP)


def test_metainfo_is_valid_without_network() -> None:
    done = subprocess.run([tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "W:" not in done.stdout and "E:" not in done.stdout, done.stdout


def test_desktop_entry_names_the_app_and_its_icon() -> None:
    entry = read_desktop(DESKTOP)
    assert entry["Name"] == "Token Ledger"
    assert entry["Icon"] == APP_ID
    assert entry["Exec"] == "token-ledger"  # the installed console script; install-desktop-entry writes its own
    assert entry["Terminal"] == "false"
    assert "Office" in entry["Categories"].split(";")


def test_metainfo_matches_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("icon") == APP_ID
    assert root.findtext("metadata_license") == "CC0-1.0"
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert root.findtext("project_license") == pyproject["project"]["license"]
    assert root.find("content_rating") is not None
    versions = [r.get("version") for r in root.iter("release")]
    assert versions and versions[0] == __version__, "add a <release> for the new version (newest first)"


def test_metainfo_names_no_web_address() -> None:
    """The project has no public home yet: no invented homepage, bug tracker or screenshot URLs (a software centre
    would show them). Add them here once they exist."""
    root = ET.parse(METAINFO).getroot()
    assert root.find("url") is None and root.find("screenshots") is None
