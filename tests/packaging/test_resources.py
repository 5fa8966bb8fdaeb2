"""tracker.resources: the resource folder is found from a source tree, an installed wheel and a PyInstaller
bundle (in that order of preference: bundle first), every file of the contract ships, and the module is Qt-free."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tracker import resources
from tracker.paths import APP_ID

REPO = Path(__file__).resolve().parents[2]


def _make_root(base: Path) -> Path:
    root = base
    (root / "icons").mkdir(parents=True)
    (root / "icons" / "x.svg").write_text("<svg/>", encoding="utf-8")
    return root


def test_source_tree_uses_the_repos_resources_folder() -> None:
    assert resources.resources_root() == REPO / "resources"
    assert resources.resource_path("icons", f"{APP_ID}.svg") == REPO / "resources" / "icons" / f"{APP_ID}.svg"


def test_an_installed_wheel_uses_the_packages_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "site-packages" / "tracker"
    _make_root(package / "_resources")
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    assert resources.resources_root() == package / "_resources"
    assert resources.resource_path("icons", "x.svg").read_text(encoding="utf-8") == "<svg/>"


def test_a_pyinstaller_bundle_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_root(tmp_path / "bundle" / "_internal" / "tracker" / "_resources")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle" / "_internal"), raising=False)
    assert resources.resources_root() == tmp_path / "bundle" / "_internal" / "tracker" / "_resources"


def test_meipass_alone_is_not_a_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_root(tmp_path / "tracker" / "_resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert resources.resources_root() == REPO / "resources"


def test_a_missing_folder_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resources, "_PACKAGE_DIR", tmp_path / "nowhere" / "tracker")
    with pytest.raises(FileNotFoundError) as e:
        resources.resources_root()
    message = str(e.value)
    assert str(tmp_path / "nowhere" / "tracker" / "_resources") in message
    assert str(tmp_path / "nowhere" / "resources") in message
    assert "reinstall" in message


def test_a_missing_file_names_it_and_the_folder() -> None:
    with pytest.raises(FileNotFoundError, match=r"icons/nope\.svg was not found in .*resources"):
        resources.resource_path("icons", "nope.svg")


def test_every_file_of_the_contract_ships() -> None:
    expected = [("icons", f"{APP_ID}.svg"), ("linux", f"{APP_ID}.desktop"), ("linux", f"{APP_ID}.metainfo.xml")]
    expected += [resources.png_parts(APP_ID, n) for n in (16, 22, 24, 32, 48, 64, 128, 256)]
    for variant in resources.TRAY_VARIANTS:
        name = resources.tray_icon_name(variant)
        expected.append(resources.svg_parts(name))
        expected += [resources.png_parts(name, n) for n in resources.TRAY_ICON_SIZES]
    for parts in expected:
        assert resources.resource_path(*parts).is_file(), parts


def test_tray_variants_are_named_for_the_panel() -> None:
    assert resources.tray_icon_name("on-light") == f"{APP_ID}-tray-on-light"
    assert resources.tray_icon_name("on-dark") == f"{APP_ID}-tray-on-dark"
    with pytest.raises(ValueError, match="unknown tray icon variant"):
        resources.tray_icon_name("light")


def test_resources_and_desktop_modules_do_not_import_qt() -> None:
    code = ("import sys, tracker.resources, tracker.desktop, tracker.cli.desktop; "
            "print(sorted(m for m in sys.modules if m.startswith('PySide6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
