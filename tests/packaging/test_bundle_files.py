"""The files the PyInstaller build writes for Windows and macOS (icon, version resource, Info.plist), and the
entry points' multiprocessing set-up: checked here on any platform, without building (test_bundle.py builds).
"""

from __future__ import annotations

import ast
import importlib.util
import plistlib
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tracker import __version__
from tracker.paths import APP_ID, APP_NAME

REPO = Path(__file__).resolve().parents[2]
PYI = REPO / "packaging" / "pyinstaller"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_h4_{name}", PYI / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bs() -> ModuleType:
    return _load("bundle_support")


def test_names_and_version_agree_with_the_package(bs: ModuleType) -> None:
    assert bs.APP_ID == APP_ID
    assert bs.APP_NAME == APP_NAME
    assert bs.read_version() == __version__


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("1.2", (1, 2, 0, 0)),
        ("2.0.1rc3", (2, 0, 1, 0)),
        ("1.4.2+local.7", (1, 4, 2, 0)),
    ],
)
def test_windows_version_numbers(bs: ModuleType, version: str, expected: tuple[int, ...]) -> None:
    assert bs.version_tuple(version) == expected


def test_ico_holds_every_icon_size_as_png(bs: ModuleType) -> None:
    pngs = bs.icon_pngs(REPO / "resources")
    ico = bs.ico_bytes(pngs)
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(bs.ICON_SIZES))
    for i, size in enumerate(bs.ICON_SIZES):
        w, h, _colors, _res, planes, bits, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * i : 22 + 16 * i]
        )
        assert (w or 256, h or 256, planes, bits) == (size, size, 1, 32)
        image = ico[offset : offset + length]
        assert bs.png_size(image) == (size, size)
    assert offset + length == len(ico)


def test_icns_holds_the_png_sizes_macos_knows(bs: ModuleType) -> None:
    icns = bs.icns_bytes(bs.icon_pngs(REPO / "resources"))
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, pos = [], 8
    while pos < len(icns):
        kind, length = icns[pos : pos + 4], struct.unpack(">I", icns[pos + 4 : pos + 8])[0]
        assert icns[pos + 8 : pos + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.append(kind)
        pos += length
    assert pos == len(icns)
    assert kinds == [
        b"icp4",
        b"icp5",
        b"icp6",
        b"ic07",
        b"ic08",
    ]  # 16, 32, 64, 128, 256 (24 and 48 have none)


def test_not_a_png_is_refused(bs: ModuleType) -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        bs.ico_bytes([b"GIF89a" + bytes(30)])


def test_windows_version_resource_parses_with_pyinstaller(
    bs: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # versioninfo imports pefile and win32api (Windows-only) for writing into an .exe; parsing needs neither
    import PyInstaller.compat

    if importlib.util.find_spec("pefile") is None:
        monkeypatch.setitem(sys.modules, "pefile", ModuleType("pefile"))
    monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    from PyInstaller.utils.win32 import versioninfo

    path = tmp_path / "version-info.txt"
    path.write_text(bs.version_info_text("1.2.3"), encoding="utf-8")
    info = versioninfo.load_version_info_from_text_file(str(path))
    text = str(info)
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('ProductName', 'Token Ledger')" in text
    assert "StringStruct('OriginalFilename', 'token-ledger.exe')" in text


def test_macos_info_plist_is_a_tray_app_that_never_naps(bs: ModuleType) -> None:
    plist = bs.info_plist(__version__)
    assert plist["LSUIElement"] is True  # no Dock icon
    assert plist["NSAppSleepDisabled"] is True  # App Nap would stall the sync timers
    assert plist["NSSupportsAutomaticTermination"] is False
    assert plist["CFBundleIdentifier"] == APP_ID
    assert plist["CFBundleShortVersionString"] == __version__
    assert plistlib.loads(plistlib.dumps(plist)) == plist


@pytest.mark.parametrize("path", [PYI / "entry.py", REPO / "tracker" / "__main__.py"])
def test_entry_points_call_freeze_support_before_the_command_line(path: Path) -> None:
    """A spawn worker of a frozen app is the app started again: freeze_support() must come before the CLI."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guard = next(n for n in tree.body if isinstance(n, ast.If))  # if __name__ == "__main__":
    assert "__main__" in ast.unparse(guard.test)
    first = ast.unparse(guard.body[0])
    assert first == "multiprocessing.freeze_support()"
    assert "tracker.cli" in ast.unparse(guard.body[1])
    assert not [
        n for n in tree.body if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("tracker")
    ]


def test_python_m_tracker_runs_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"token-ledger, version {__version__}"


def test_build_output_goes_to_ignored_folders_by_default() -> None:
    build = _load("build")
    args = build.parse_args([])
    assert args.dist == REPO / "dist"
    assert args.work == REPO / "build" / "pyinstaller"
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert "dist/" in ignored and "build/" in ignored
    cmd = build.pyinstaller_args(build.parse_args(["--dist", "/x/d", "--work", "/x/w", "--clean"]))
    assert cmd[0].endswith("token-ledger.spec")
    assert cmd[cmd.index("--distpath") + 1] == str(Path("/x/d").resolve())
    assert "--clean" in cmd and "--noconfirm" in cmd
