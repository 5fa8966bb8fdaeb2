"""``token-ledger install-desktop-entry``: the menu entry, icons and metadata installed under $XDG_DATA_HOME (in
tmp_path here), a valid entry that starts this installation, cache tools used only when present, and
``--uninstall`` taking away exactly those files."""

from __future__ import annotations

import configparser
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_desktop_files import read_desktop, validate_desktop_file

from tracker import desktop, resources
from tracker.launch import desktop_exec, launch_args
from tracker.paths import APP_ID

ICON = APP_ID


@pytest.fixture
def share(home: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$XDG_DATA_HOME in tmp_path (HOME is there too, through the ``home`` fixture); the ledger is the default."""
    base = tmp_path / "share"
    monkeypatch.setenv("XDG_DATA_HOME", str(base))
    monkeypatch.setenv("TOKEN_LEDGER_DATA_DIR", str(base / "token-ledger"))
    return base


def expected_files(base: Path) -> list[Path]:
    hicolor = base / "icons" / "hicolor"
    return [
        base / "applications" / f"{APP_ID}.desktop",
        *(hicolor / f"{n}x{n}" / "apps" / f"{ICON}.png" for n in (16, 22, 24, 32, 48, 64, 128, 256)),
        hicolor / "scalable" / "apps" / f"{ICON}.svg",
        base / "metainfo" / f"{APP_ID}.metainfo.xml",
    ]


def test_install_writes_a_valid_entry_icons_and_metainfo(cli: Any, share: Path) -> None:
    r = cli("install-desktop-entry")
    assert r.code == 0, r.err
    for path in expected_files(share):
        assert path.is_file(), path
        assert str(path) in r.out
    assert "To remove it: token-ledger install-desktop-entry --uninstall" in r.out
    entry_path = share / "applications" / f"{APP_ID}.desktop"
    validate_desktop_file(entry_path)
    entry = read_desktop(entry_path)
    assert entry["Exec"] == desktop_exec(launch_args())  # default ledger: no --data-dir
    assert entry["Icon"] == APP_ID
    svg = resources.resource_path(*resources.svg_parts(ICON))
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON}.svg").read_bytes() == svg.read_bytes()
    png = resources.resource_path(*resources.png_parts(ICON, 48))
    assert (share / "icons" / "hicolor" / "48x48" / "apps" / f"{ICON}.png").read_bytes() == png.read_bytes()
    assert not list(share.rglob(".*.tmp"))


def test_a_chosen_ledger_is_opened_by_the_entry(cli: Any, share: Path, tmp_path: Path) -> None:
    other = tmp_path / "my ledger"
    r = cli("--data-dir", str(other), "install-desktop-entry")
    assert r.code == 0, r.err
    entry_path = share / "applications" / f"{APP_ID}.desktop"
    assert read_desktop(entry_path)["Exec"] == desktop_exec(launch_args(other))
    assert '"' in read_desktop(entry_path)["Exec"]  # the space is quoted per the spec
    validate_desktop_file(entry_path)


def test_uninstall_removes_exactly_what_was_installed(cli: Any, share: Path) -> None:
    assert cli("install-desktop-entry").code == 0
    neighbour = share / "applications" / "other-app.desktop"
    neighbour.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n", encoding="utf-8")
    other_icon = share / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"
    other_icon.write_bytes(b"png")
    r = cli("install-desktop-entry", "--uninstall")
    assert r.code == 0, r.err
    for path in expected_files(share):
        assert not path.exists(), path
        assert str(path) in r.out
    assert neighbour.exists() and other_icon.exists()
    again = cli("install-desktop-entry", "--uninstall")
    assert again.code == 0 and "Nothing to remove" in again.out


def test_installing_again_replaces_the_entry(cli: Any, share: Path, tmp_path: Path) -> None:
    assert cli("install-desktop-entry").code == 0
    assert cli("--data-dir", str(tmp_path / "elsewhere"), "install-desktop-entry").code == 0
    entry = read_desktop(share / "applications" / f"{APP_ID}.desktop")
    assert "elsewhere" in entry["Exec"]


def test_other_systems_are_told_what_to_do_instead(cli: Any, share: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.cli import desktop as cli_desktop

    for platform, hint in (("darwin", "Applications"), ("win32", "Pin to Start")):
        monkeypatch.setattr(cli_desktop, "_platform", lambda p=platform: p)
        r = cli("install-desktop-entry")
        assert r.code == 1
        assert "for Linux desktops" in r.err and hint in r.err
    assert not share.exists()


def test_missing_cache_tools_are_not_an_error(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    result = desktop.install(tmp_path, "token-ledger", which=lambda _name: None, run=_recorder(calls))
    assert calls == [] and result.notes == []
    assert len(result.files) == len(expected_files(tmp_path))


def test_cache_tools_run_when_present(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    which = {"update-desktop-database": "/usr/bin/update-desktop-database",
             "gtk-update-icon-cache": "/usr/bin/gtk-update-icon-cache"}.get
    desktop.install(tmp_path, "token-ledger", which=which, run=_recorder(calls))
    # no icon cache yet: only the menu database is refreshed (desktops read icon folders without a cache)
    assert calls == [["/usr/bin/update-desktop-database", "--quiet", str(tmp_path / "applications")]]
    (tmp_path / "icons" / "hicolor" / "icon-theme.cache").write_bytes(b"")
    calls.clear()
    desktop.uninstall(tmp_path, which=which, run=_recorder(calls))
    assert [c[0] for c in calls] == ["/usr/bin/update-desktop-database", "/usr/bin/gtk-update-icon-cache"]
    assert calls[1][-1] == str(tmp_path / "icons" / "hicolor")


def test_a_failing_cache_tool_is_a_note(tmp_path: Path) -> None:
    def fail(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 1, "", "cannot write cache\n")

    result = desktop.install(tmp_path, "token-ledger", which=lambda name: f"/usr/bin/{name}", run=fail)
    assert result.notes == ["update-desktop-database failed (exit 1: cannot write cache); the menu may show the "
                            "change after you log in again."]
    assert (tmp_path / "applications" / f"{APP_ID}.desktop").is_file()


def test_real_cache_tools_leave_a_clean_tree(tmp_path: Path) -> None:
    """With the real tools (when installed): the install still validates, and uninstall leaves no file of ours."""
    desktop.install(tmp_path, "token-ledger")
    desktop.uninstall(tmp_path)
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and APP_ID in p.name]
    assert leftovers == []


def test_xdg_data_home_must_be_absolute(tmp_path: Path) -> None:
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path), "HOME": "/h"}) == tmp_path
    assert desktop.data_home({"XDG_DATA_HOME": "relative/share", "HOME": "/h"}) == Path("/h/.local/share")
    assert desktop.data_home({"HOME": "/h"}) == Path("/h/.local/share")


def test_the_shipped_entry_must_have_an_exec_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "linux" / f"{APP_ID}.desktop"
    broken.parent.mkdir()
    broken.write_text("[Desktop Entry]\nName=Token Ledger\n", encoding="utf-8")
    monkeypatch.setattr(resources, "resources_root", lambda: tmp_path)
    with pytest.raises(ValueError, match="no Exec= line"):
        desktop.desktop_entry("token-ledger")


def _recorder(calls: list[list[str]]) -> Any:
    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0, "", "")

    return run


def test_parser_reads_what_we_write(tmp_path: Path) -> None:
    desktop.install(tmp_path, desktop_exec(["/opt/Token Ledger/token-ledger"]), which=lambda _n: None)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(tmp_path / "applications" / f"{APP_ID}.desktop", encoding="utf-8")
    assert parser["Desktop Entry"]["Exec"] == '"/opt/Token Ledger/token-ledger"'
