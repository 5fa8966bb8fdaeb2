"""tracker.outcomes: parsing (exact money, times, kinds), CRUD and its error messages; the hourly-rate setting."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tracker.outcomes import (
    OutcomeFields,
    add_outcome,
    add_rule,
    delete_outcome,
    get_outcome,
    list_outcomes,
    list_rules,
    parse_hours,
    parse_kind,
    parse_status,
    parse_usd,
    parse_when,
    remove_rule,
    rename_project,
    set_client,
    update_outcome,
)
from tracker.settings import Settings, load_settings, save_settings
from tracker.store import open_store

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    with open_store(tmp_path / "ledger.sqlite3") as store:
        yield store.conn


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_money_is_exact() -> None:
    assert parse_usd("250") == 250 * 10**12
    assert parse_usd("$1,200.50") == 1_200_500_000_000_000
    assert parse_usd("0.1") + parse_usd("0.2") == parse_usd("0.3")  # no float anywhere
    assert parse_usd("0.000000000001") == 1
    assert parse_usd(".5") == 5 * 10**11
    for bad, needle in (("-3", "is negative"), ("lots", "is not an amount of dollars"), ("1e3", "not an amount"),
                        ("0.0000000000001", "more than 12 decimals"), ("", "not an amount")):
        with pytest.raises(ValueError, match=needle):
            parse_usd(bad)


def test_hours_kind_status() -> None:
    assert parse_hours("1.50") == "1.5"
    assert parse_hours("2") == "2"
    assert parse_hours("0") == "0"
    with pytest.raises(ValueError, match="negative"):
        parse_hours("-1")
    with pytest.raises(ValueError, match="not a number of hours"):
        parse_hours("a while")
    assert parse_kind("Bug-Fix") == "bug_fix"
    with pytest.raises(ValueError, match="unknown kind 'win'; use one of: shipped_feature"):
        parse_kind("win")
    with pytest.raises(ValueError, match="unknown status 'done'"):
        parse_status("done")


def test_when_formats_in_the_local_zone() -> None:
    assert parse_when("2026-11-20 14:30", PARIS) == _ms("2026-11-20T14:30:00+01:00")
    assert parse_when("2026-11-20T14:30:05", PARIS) == _ms("2026-11-20T14:30:05+01:00")
    assert parse_when("2026-11-20T14:30:00Z", PARIS) == _ms("2026-11-20T14:30:00+00:00")
    assert parse_when("2026-07-01T08:00:00-04:00", PARIS) == _ms("2026-07-01T08:00:00-04:00")
    # a date alone: the end of that local day, so the day's spend counts toward the outcome
    assert parse_when("2026-11-20", PARIS) == _ms("2026-11-21T00:00:00+01:00") - 1
    for bad in ("tomorrow", "2026-13-01", "20/11/2026"):
        with pytest.raises(ValueError, match="is not a date or time"):
            parse_when(bad, PARIS)


def test_outcome_crud(conn: sqlite3.Connection) -> None:
    add_rule(conn, "shop", "path_prefix", "/work/shop")
    oid = add_outcome(conn, OutcomeFields(title="  CSV   export ", at_ms=1000, project="shop", kind="shipped_feature",
                                          value_pusd=parse_usd("300"), hours_saved="2.5", link="https://x/pr/1",
                                          tags=["billing,export", "export"]))
    o = get_outcome(conn, oid)
    assert (o.title, o.kind, o.at_ms, o.project, o.value_pusd, o.hours_saved, o.status, o.link, o.tags) == (
        "CSV export", "shipped_feature", 1000, "shop", 300 * 10**12, "2.5", "kept", "https://x/pr/1",
        ["billing", "export"])
    assert json.loads(conn.execute("SELECT tags FROM outcomes").fetchone()[0]) == ["billing", "export"]
    o = update_outcome(conn, oid, OutcomeFields(status="redone", clear={"value", "link"}))
    assert (o.status, o.value_pusd, o.link, o.hours_saved) == ("redone", None, None, "2.5")
    add_outcome(conn, OutcomeFields(title="later", at_ms=5000))
    assert [x.title for x in list_outcomes(conn)] == ["CSV export", "later"]
    assert [x.title for x in list_outcomes(conn, project="shop")] == ["CSV export"]
    assert [x.title for x in list_outcomes(conn, since_ms=2000)] == ["later"]
    assert [x.title for x in list_outcomes(conn, status="kept")] == ["later"]
    assert delete_outcome(conn, oid).title == "CSV export"
    with pytest.raises(ValueError, match="no outcome #1"):
        get_outcome(conn, oid)


def test_outcome_mistakes(conn: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="the title is empty"):
        add_outcome(conn, OutcomeFields(title="  ", at_ms=1))
    with pytest.raises(ValueError, match="unknown project 'nope'"):
        add_outcome(conn, OutcomeFields(title="x", at_ms=1, project="nope"))
    with pytest.raises(ValueError, match="negative"):
        add_outcome(conn, OutcomeFields(title="x", at_ms=1, value_pusd=-1))
    with pytest.raises(ValueError, match="unknown kind"):
        add_outcome(conn, OutcomeFields(title="x", at_ms=1, kind="nothing"))
    with pytest.raises(ValueError, match="no outcome #9"):
        update_outcome(conn, 9, OutcomeFields(title="y"))
    assert conn.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 0


def test_rules_clients_and_renames(conn: sqlite3.Connection) -> None:
    rid = add_rule(conn, "shop", "path_prefix", "/work/shop/")
    assert [(r.id, r.project, r.kind, r.pattern) for r in list_rules(conn)] == [(rid, "shop", "path_prefix",
                                                                                  "/work/shop")]
    with pytest.raises(ValueError, match=r"a rule for path_prefix '/work/shop' already exists \(#1, project 'shop'\)"):
        add_rule(conn, "other", "path_prefix", "/work/shop")
    with pytest.raises(ValueError, match="not an absolute path"):
        add_rule(conn, "other", "path_prefix", "relative/dir")
    with pytest.raises(ValueError, match="unknown rule kind"):
        add_rule(conn, "other", "folder", "/x")
    set_client(conn, "shop", "ACME Corp")
    assert conn.execute("SELECT c.name FROM projects p JOIN clients c ON c.id = p.client_id").fetchone() == (
        "ACME Corp",)
    set_client(conn, "shop", None)
    assert conn.execute("SELECT client_id FROM projects WHERE name = 'shop'").fetchone() == (None,)
    with pytest.raises(ValueError, match="unknown project 'shp': did you mean 'shop'"):
        set_client(conn, "shp", "ACME")
    rename_project(conn, "shop", "store")
    assert [r.project for r in list_rules(conn)] == ["store"]
    add_rule(conn, "x", "account", "work")
    with pytest.raises(ValueError, match="project 'x' already exists"):
        rename_project(conn, "store", "x")
    assert remove_rule(conn, rid).pattern == "/work/shop"
    with pytest.raises(ValueError, match="no rule #1"):
        remove_rule(conn, rid)


def test_hourly_rate_setting_round_trips(tmp_path: Path) -> None:
    assert Settings().hourly_rate_usd is None
    save_settings(tmp_path, Settings(hourly_rate_usd=Decimal("87.50")))
    assert load_settings(tmp_path).hourly_rate_usd == Decimal("87.50")
    raw = json.loads((tmp_path / "settings.json").read_text())
    assert raw["hourly_rate_usd"] == "87.50"  # a decimal string, never a float
    (tmp_path / "settings.json").write_text(json.dumps({"hourly_rate_usd": "-5"}))
    assert load_settings(tmp_path) == Settings()  # a bad value: defaults, file kept aside


def test_times_stored_are_utc_instants(conn: sqlite3.Connection) -> None:
    at = parse_when("2026-03-29 02:30", ZoneInfo("UTC"))
    oid = add_outcome(conn, OutcomeFields(title="t", at_ms=at))
    assert get_outcome(conn, oid).at_ms == int(datetime(2026, 3, 29, 2, 30, tzinfo=UTC).timestamp() * 1000)
