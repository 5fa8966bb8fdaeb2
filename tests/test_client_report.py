"""``report client NAME --month YYYY-MM``: the figures (by hand), JSON/CSV exactly, HTML and a rendered PDF page.

The ledger: real-shaped Claude Code lines imported by ``sync --no-accounts`` (claude-sonnet-4-5, 100k input +
20k output = $0.30 + $0.30 = **$0.60**; claude-haiku-4-5 the same tokens = $0.10 + $0.10 = **$0.20**; one request of
a model with no price), provider rows and the m006 tables written with SQL. The agents' working folders are under
the test's home folder (they do not exist, so a folder's default project is its last component): the report must
never show them, nor a session id.

| id | when (UTC)        | project (client)        | spend                                   |
|----|-------------------|-------------------------|-----------------------------------------|
| A0 | 2026-10-30 10:00  | app (Acme)              | 0.60 est., October: not in the month     |
| A1 | 2026-11-02 10:00  | app (Acme)              | 0.60 est. sonnet                         |
| A2 | 2026-11-03 10:00  | app (Acme)              | 0.60 est. sonnet                         |
| W1 | 2026-11-05 10:00  | website (Acme, rule)    | 0.60 est. sonnet                         |
| S1 | 2026-11-06 10:00  | scratch (no client)     | 0.60 est.                                |
| B1 | 2026-11-07 10:00  | other (Beta)            | 0.60 est.                                |
| R1 | 2026-11-10 (UTC)  | app (account rule)      | 0.50 reported, Anthropic, no model named |
| R2 | 2026-11-11 (UTC)  | app (account rule)      | 0.25 reported, Anthropic, claude-opus-4-1|
| A3 | 2026-11-12 10:00  | app (Acme)              | unpriced (mystery-model-1)               |
| R3 | 2026-11-15 (UTC)  | (no project)            | 1.00 reported, OpenAI (no rule)          |
| W2 | 2026-11-20 10:00  | website (Acme)          | 0.20 est. haiku                          |
| A4 | 2026-12-01 10:00  | app (Acme)              | 0.60 est., December: not in the month    |

Outcomes: O1 2026-11-04 12:00 app "Ship login" $5 kept (window [A0, O1) = A0 + A1 + A2 = 1.80); O2 2026-11-15 12:00
app "Fix checkout bug" 2 h kept ([O1, O2) = R1 + R2 = 0.75, + A3 unpriced); O3 2026-11-21 09:00 website "Landing
page" $3 redone ([W1, O3) = W1 + W2 = 0.80); OB 2026-11-08 other (Beta): not Acme's.

Acme, November (UTC): estimated A1 + A2 + W1 + W2 = 2.00; reported R1 + R2 = 0.75; spend 2.75; 1 unpriced;
3 outcomes, 2 kept; value $5 + 2 h (no rate) -> 5.00 / 2.75 = 1.818 -> "1.82"; cost per outcome 2.75 / 3 =
0.91666... -> "0.916666666667"; per kept 2.75 / 2 = "1.375". At $60 an hour: 5 + 120 = 125.00, / 2.75 = "45.45".
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Home

from tracker.analytics import value
from tracker.store import open_store

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # as tests/ui/conftest.py: no display needed

SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
NOW = "2026-12-02T09:00:00"
PICO = 10**12
SESSION = "c0ffee00-1234-4bcd-9876-5e55104d0001"

SUMMARY = {"spend_usd": "2.75", "estimated_usd": "2.00", "reported_usd": "0.75", "unpriced_records": 1,
           "outcomes": 3, "kept_outcomes": 2, "outcome_value_usd": "5.00", "hours_saved": "2", "unvalued_hours": "2",
           "value_per_dollar": "1.82", "cost_per_outcome": "0.916666666667", "cost_per_kept_outcome": "1.375"}
BY_PROVIDER = [{"provider": "Anthropic", "estimated_usd": "2.00", "reported_usd": "0.75", "unpriced_records": 1}]
BY_MODEL = [
    {"model": SONNET, "provider": "Anthropic", "estimated_usd": "1.80", "reported_usd": "0.00", "unpriced_records": 0},
    {"model": "(not itemised by model)", "provider": "Anthropic", "estimated_usd": "0.00", "reported_usd": "0.50",
     "unpriced_records": 0},
    {"model": "claude-opus-4-1", "provider": "Anthropic", "estimated_usd": "0.00", "reported_usd": "0.25",
     "unpriced_records": 0},
    {"model": HAIKU, "provider": "Anthropic", "estimated_usd": "0.20", "reported_usd": "0.00", "unpriced_records": 0},
    {"model": "mystery-model-1", "provider": "Anthropic", "estimated_usd": "0.00", "reported_usd": "0.00",
     "unpriced_records": 1},
]
# app: est. 1.20, reported 0.75 -> 1.95; value 5.00 (+ 2 h) / 1.95 = 2.564 -> "2.56"; website: est. 0.80, O3 redone
BY_PROJECT = [
    {"project": "app", "estimated_usd": "1.20", "reported_usd": "0.75", "unpriced_records": 1, "outcomes": 2,
     "kept_outcomes": 2, "outcome_value_usd": "5.00", "unvalued_hours": "2", "value_per_dollar": "2.56"},
    {"project": "website", "estimated_usd": "0.80", "reported_usd": "0.00", "unpriced_records": 0, "outcomes": 1,
     "kept_outcomes": 0, "outcome_value_usd": "0.00", "unvalued_hours": "0", "value_per_dollar": "0.00"},
]
OUTCOMES = [
    {"number": 1, "day": "2026-11-04", "title": "Ship login", "kind": "shipped_feature", "project": "app",
     "status": "kept", "value_usd": "5.00", "hours_saved": None, "counted_value_usd": "5.00", "unvalued_hours": "0",
     "attributed_spend_usd": "1.80"},
    {"number": 2, "day": "2026-11-15", "title": "Fix checkout bug", "kind": "bug_fix", "project": "app",
     "status": "kept", "value_usd": None, "hours_saved": "2", "counted_value_usd": None, "unvalued_hours": "2",
     "attributed_spend_usd": "0.75"},
    {"number": 3, "day": "2026-11-21", "title": "Landing page", "kind": "client_deliverable", "project": "website",
     "status": "redone", "value_usd": "3.00", "hours_saved": None, "counted_value_usd": "0.00",
     "unvalued_hours": "0", "attributed_spend_usd": "0.80"},
]
DAYS = {"2026-11-02": ("0.60", "0.00"), "2026-11-03": ("0.60", "0.00"), "2026-11-05": ("0.60", "0.00"),
        "2026-11-10": ("0.00", "0.50"), "2026-11-11": ("0.00", "0.25"), "2026-11-20": ("0.20", "0.00")}


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def claude_line(n: int, ts: str, cwd: str, model: str = SONNET) -> str:
    return json.dumps({
        "type": "assistant", "timestamp": ts, "sessionId": f"{SESSION[:-4]}{n:04d}", "cwd": cwd,
        "version": "2.1.72", "requestId": f"req_{n}",
        "message": {"id": f"msg_{n}", "model": model, "type": "message", "role": "assistant",
                    "usage": {"input_tokens": 100_000, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 20_000}},
    }, separators=(",", ":")) + "\n"


def write_logs(home: Home) -> None:
    code = home.root / "code"
    app, www = f"{code}/app", f"{code}/site/www"
    home.claude_log("-code-app/a.jsonl", "".join([
        claude_line(1, "2026-10-30T10:00:00.000Z", app),  # A0
        claude_line(2, "2026-11-02T10:00:00.000Z", app),  # A1
        claude_line(3, "2026-11-03T10:00:00.000Z", app),  # A2
        claude_line(4, "2026-11-12T10:00:00.000Z", app, model="mystery-model-1"),  # A3
        claude_line(5, "2026-12-01T10:00:00.000Z", app),  # A4
    ]))
    home.claude_log("-code-site-www/w.jsonl", "".join([
        claude_line(6, "2026-11-05T10:00:00.000Z", www),  # W1
        claude_line(7, "2026-11-20T10:00:00.000Z", www, model=HAIKU),  # W2
    ]))
    home.claude_log("-code-scratch/s.jsonl", claude_line(8, "2026-11-06T10:00:00.000Z", f"{code}/scratch"))  # S1
    home.claude_log("-code-other/o.jsonl", claude_line(9, "2026-11-07T10:00:00.000Z", f"{code}/other"))  # B1


def _insert(conn: sqlite3.Connection, table: str, **cols: Any) -> int:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    return int(conn.execute(sql, list(cols.values())).lastrowid or 0)


def _billed(conn: sqlite3.Connection, account: int, provider: str, day: str, usd: str, *, model: str = "") -> None:
    start = _ms(f"{day}T00:00:00")
    _insert(conn, "provider_usage", account_id=account, provider=provider, kind=f"{provider}.costs",
            bucket_start_ms=start, bucket_width="1d", bucket_end_ms=start + 86_400_000, fetched_ms=start, billed=1,
            model=model, cost_pico=int(Decimal(usd) * PICO), currency="USD", amount_raw=usd, amount_unit="unit")


def add_rows(conn: sqlite3.Connection, home: Home) -> None:
    t = _ms("2026-10-01T00:00:00")
    work = _insert(conn, "accounts", provider="anthropic", label="work", created_ms=t)
    org = _insert(conn, "accounts", provider="openai", label="org", created_ms=t)
    _billed(conn, work, "anthropic", "2026-11-10", "0.50")  # R1
    _billed(conn, work, "anthropic", "2026-11-11", "0.25", model="claude-opus-4-1")  # R2
    _billed(conn, org, "openai", "2026-11-15", "1.00")  # R3
    acme = _insert(conn, "clients", name="Acme", created_ms=t)
    beta = _insert(conn, "clients", name="Beta", created_ms=t)
    app = _insert(conn, "projects", name="app", client_id=acme, created_ms=t)
    web = _insert(conn, "projects", name="website", client_id=acme, created_ms=t)
    other = _insert(conn, "projects", name="other", client_id=beta, created_ms=t)
    _insert(conn, "project_rules", project_id=web, kind="path_prefix", pattern=f"{home.root}/code/site", created_ms=t)
    _insert(conn, "project_rules", project_id=app, kind="account", pattern="work", created_ms=t)
    for title, kind, at, project, value_usd, hours, status in (
        ("Ship login", "shipped_feature", "2026-11-04T12:00:00", app, "5", None, "kept"),  # O1
        ("Fix checkout bug", "bug_fix", "2026-11-15T12:00:00", app, None, "2", "kept"),  # O2
        ("Landing page", "client_deliverable", "2026-11-21T09:00:00", web, "3", None, "redone"),  # O3
        ("Beta thing", "other", "2026-11-08T09:00:00", other, "9", None, "kept"),  # OB
    ):
        _insert(conn, "outcomes", title=title, kind=kind, at_ms=_ms(at), project_id=project,
                value_pusd=None if value_usd is None else int(Decimal(value_usd) * PICO), hours_saved=hours,
                status=status, notes=f"private notes in {home.root}", created_ms=t, updated_ms=t)


@pytest.fixture
def ledger(home: Home, cli: Any, monkeypatch: pytest.MonkeyPatch) -> Home:
    write_logs(home)
    r = cli("sync", "--no-accounts")
    assert r.code == 0, r.err
    with open_store(home.data / "ledger.sqlite3", create=False) as store, store.transaction():
        add_rows(store.conn, home)
    monkeypatch.setattr(value, "now_ms", lambda: _ms(NOW))
    return home


def assert_no_leaks(text: str, home: Home) -> None:
    assert str(home.root) not in text and str(home.data) not in text
    assert "/code/" not in text and "private notes" not in text
    assert SESSION[:-4] not in text and "req_" not in text and "msg_" not in text


# --- JSON and CSV: the figures by hand ------------------------------------------------------------------------


def test_json_matches_the_hand_figures(ledger: Home, cli: Any) -> None:
    r = cli("report", "client", "Acme", "--month", "2026-11", "--format", "json", "--tz", "UTC")
    assert r.code == 0, r.err
    d = r.json()
    assert (d["report"], d["client"], d["month"], d["first_day"], d["last_day"]) == (
        "client", "Acme", "2026-11", "2026-11-01", "2026-11-30")
    assert (d["timezone"], d["prepared"], d["currency"], d["hourly_rate_usd"]) == ("UTC", "2026-12-02", "USD", None)
    assert d["summary"] == SUMMARY
    assert d["by_provider"] == BY_PROVIDER
    assert d["by_model"] == BY_MODEL
    assert d["by_project"] == BY_PROJECT
    assert d["outcomes"] == OUTCOMES
    assert len(d["days"]) == 30
    assert {x["day"]: (x["estimated_usd"], x["reported_usd"]) for x in d["days"]
            if (x["estimated_usd"], x["reported_usd"]) != ("0.00", "0.00")} == DAYS
    assert "Estimated" in d["notes"][0] and "Reported" in d["notes"][0]
    assert_no_leaks(r.out, ledger)


def test_figures_are_the_value_reports(ledger: Home, cli: Any) -> None:
    """The summary is `report value --by client` for the month; the splits add up to it."""
    v = cli("report", "value", "--by", "client", "--since", "2026-11-01", "--until", "2026-11-30", "--format",
            "json", "--tz", "UTC").json()
    acme = next(r for r in v["rows"] if r["client"] == "Acme")
    d = cli("report", "client", "Acme", "--month", "2026-11", "--format", "json", "--tz", "UTC").json()
    assert {k: acme[k] for k in SUMMARY} == d["summary"]
    for part in ("estimated_usd", "reported_usd"):
        for lines in (d["by_provider"], d["by_model"], d["by_project"], d["days"]):
            assert sum(Decimal(x[part]) for x in lines) == Decimal(d["summary"][part])
    assert sum(x["unpriced_records"] for x in d["by_model"]) == d["summary"]["unpriced_records"]


def test_hours_are_valued_at_the_settings_rate(ledger: Home, cli: Any) -> None:
    (ledger.data / "settings.json").write_text(json.dumps({"hourly_rate_usd": "60"}))
    d = cli("report", "client", "acme", "--month", "2026-11", "--format", "json", "--tz", "UTC").json()
    assert d["client"] == "Acme" and d["hourly_rate_usd"] == "60"
    s = d["summary"]
    assert (s["outcome_value_usd"], s["unvalued_hours"], s["value_per_dollar"]) == ("125.00", "0", "45.45")
    assert d["outcomes"][1]["counted_value_usd"] == "120.00" and d["outcomes"][1]["unvalued_hours"] == "0"


def test_csv_has_the_same_figures(ledger: Home, cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "acme.csv"
    r = cli("report", "client", "Acme", "--month", "2026-11", "--output", str(out), "--tz", "UTC")
    assert r.code == 0, r.err
    lines = out.read_text().splitlines()
    assert lines[0] == ("section,name,provider,project,day,kind,status,estimated_usd,reported_usd,unpriced_records,"
                        "outcomes,value_usd,hours_saved,counted_value_usd,unvalued_hours,attributed_spend_usd,"
                        "value_per_dollar,cost_per_outcome")
    assert lines[1] == "period,2026-11,,,2026-11-01..2026-11-30,,,,,,,,,,,,,"
    assert lines[2] == "summary,Acme,,,,,,2.00,0.75,1,3,,2,5.00,2,,1.82,0.916666666667"
    assert lines[3] == "provider,Anthropic,,,,,,2.00,0.75,1,,,,,,,,"
    assert lines[4] == f"model,{SONNET},Anthropic,,,,,1.80,0.00,0,,,,,,,,"
    assert "project,app,,,,,,1.20,0.75,1,2,,,5.00,2,,2.56," in lines
    assert "outcome,Fix checkout bug,,app,2026-11-15,bug_fix,kept,,,,,,2,,2,0.75,," in lines
    assert "outcome,Landing page,,website,2026-11-21,client_deliverable,redone,,,,,3.00,,0.00,0,0.80,," in lines
    assert "day,,,,2026-11-10,,,0.00,0.50,,,,,,,,," in lines
    assert sum(1 for line in lines if line.startswith("day,")) == 30
    assert_no_leaks(out.read_text(), ledger)


def test_another_client_and_month(ledger: Home, cli: Any) -> None:
    d = cli("report", "client", "Beta", "--month", "2026-11", "--format", "json", "--tz", "UTC").json()
    assert (d["summary"]["spend_usd"], d["summary"]["outcomes"], d["summary"]["value_per_dollar"]) == (
        "0.60", 1, "15.00")
    assert [o["title"] for o in d["outcomes"]] == ["Beta thing"]
    october = cli("report", "client", "Acme", "--month", "2026-10", "--format", "json", "--tz", "UTC").json()
    assert october["summary"]["spend_usd"] == "0.60" and october["outcomes"] == []
    assert len(october["days"]) == 31


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("Nobody", "--month", "2026-11", "--format", "json"), "no client 'Nobody'; known clients: Acme, Beta"),
    (("Acme", "--month", "2026-13", "--format", "json"), "--month '2026-13': use YYYY-MM"),
    (("Acme", "--month", "2026-11", "--format", "pdf"), "--format pdf needs --output FILE"),
    (("Acme", "--month", "2026-11", "--output", "x.txt"), "give --format pdf, html, csv or json"),
    (("Acme", "--month", "2026-11", "--format", "json", "--tz", "Mars/Olympus"), "--tz: unknown time zone"),
    (("Acme", "--month", "2026-11", "--format", "html", "--output", "/nonexistent-tl/x/r.html"),
     "--output: the folder /nonexistent-tl/x does not exist"),
])
def test_errors_are_one_line(ledger: Home, cli: Any, args: tuple[str, ...], message: str) -> None:
    r = cli("report", "client", *args)
    assert r.code != 0
    assert message in r.err, r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1


def test_without_clients_says_how_to_add_one(home: Home, cli: Any) -> None:
    assert cli("sync", "--no-accounts").code == 0
    r = cli("report", "client", "Acme", "--month", "2026-11", "--format", "json")
    assert r.code == 1 and "project set-client" in r.err


def test_other_report_kinds_are_unchanged(ledger: Home, cli: Any) -> None:
    from tracker.cli.fast import match

    assert match(["report", "client", "Acme", "--month", "2026-11", "--format", "json"]) is None
    r = cli("report", "value", "--by", "client", "--format", "json", "--tz", "UTC")
    assert r.code == 0 and r.json()["report"] == "value"
    assert cli("report", "clients").code == 2  # still click's "invalid choice"
    assert "NAME" in cli("report", "client", "--help").out


# --- rendering --------------------------------------------------------------------------------------------------


def test_html_is_one_self_contained_file(ledger: Home, cli: Any, tmp_path: Path, qapp: Any) -> None:
    out = tmp_path / "acme.html"
    r = cli("report", "client", "Acme", "--month", "2026-11", "--output", str(out), "--tz", "UTC")
    assert r.code == 0, r.err
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<style>" in text
    assert 'src="data:image/png;base64,' in text
    assert "http://" not in text and "https://" not in text and "<link" not in text and "<script" not in text
    for figure in ("Acme", "November 2026", "Prepared with Token Ledger", "2 December 2026", "$2.75", "$2.00",
                   "$0.75", "1.82×", "$0.92", "Ship login", "Fix checkout bug", "Landing page", "not counted (redone)",
                   "$5.00 +\u00a02\u00a0h", SONNET, "(not itemised by model)", "Anthropic", "Estimated:", "Reported:"):
        assert figure in text, figure
    assert "Beta thing" not in text and "scratch" not in text
    assert_no_leaks(text, ledger)


def test_pdf_page_is_rendered(ledger: Home, cli: Any, tmp_path: Path, qapp: Any) -> None:
    out = tmp_path / "acme.pdf"
    r = cli("report", "client", "Acme", "--month", "2026-11", "--output", str(out), "--tz", "UTC", "--paper", "a4")
    assert r.code == 0, r.err
    assert "(1 page)" in r.out
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert str(ledger.root).encode() not in data and SESSION[:-4].encode() not in data
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: the page cannot be rasterised")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(out), str(tmp_path / "page")],
                   check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    from PySide6.QtGui import QImage

    img = QImage(str(png))
    # A4 at 60 dpi: 8.27 x 11.69 in -> 496 x 702 pixels
    assert (img.width(), img.height()) == (496, 702)
    values = [img.pixelColor(x, y).lightness() for y in range(0, img.height(), 4) for x in range(0, img.width(), 4)]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    assert variance > 200, variance  # not a blank page
    dark = sum(1 for v in values if v < 128) / len(values)
    assert 0.01 < dark < 0.5  # text, tables and the chart, on a white page
    if os.environ.get("TOKEN_LEDGER_KEEP_REPORT_PNG"):  # to look at the page: set it to a folder
        shutil.copy(png, Path(os.environ["TOKEN_LEDGER_KEEP_REPORT_PNG"]) / "client-report.png")
        shutil.copy(out, Path(os.environ["TOKEN_LEDGER_KEEP_REPORT_PNG"]) / "client-report.pdf")


def test_letter_paper_and_page_numbers(ledger: Home, qapp: Any, tmp_path: Path) -> None:
    """Letter by choice; a long report gets "Page i of n" footers (one page: none)."""
    from tracker.analytics import client_report as cr
    from tracker.ui import client_report as ui

    with open_store(ledger.data / "ledger.sqlite3", create=False) as store:
        rep = cr.build_client_report(store.conn, cr.ClientQuery("Acme", cr.parse_month("2026-11"),
                                                                 datetime.now(UTC).tzinfo or UTC, None, _ms(NOW)))
    many = [cr.OutcomeLine(i + 1, rep.first, f"Outcome {i + 1}", "other", "app", "kept", PICO, None, PICO,
                           Decimal(0), 0) for i in range(60)]
    rep.outcomes = many
    out = tmp_path / "long.pdf"
    pages = ui.write_pdf(rep, out, "letter")
    assert pages > 1
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "2", "-l", "2", str(out), str(tmp_path / "p")],
                   check=True, timeout=60)
    from PySide6.QtGui import QImage

    img = QImage(str(next(tmp_path.glob("p*.png"))))
    assert (img.width(), img.height()) == (255, 330)  # Letter, 8.5 x 11 in at 30 dpi
    text = subprocess.run(["pdftotext", "-f", "2", "-l", "2", str(out), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert f"Page 2 of {pages}" in text


def test_paper_follows_the_locale(qapp: Any) -> None:
    from PySide6.QtCore import QLocale

    from tracker.ui.client_report import paper_for

    assert paper_for(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)) == "letter"
    assert paper_for(QLocale(QLocale.Language.French, QLocale.Country.France)) == "a4"
    assert paper_for(QLocale(QLocale.Language.C)) == "a4"
