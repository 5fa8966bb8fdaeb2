"""Client report rendering with Qt: a chart drawn with QPainter, the page as HTML, and a PDF from QTextDocument.

The figures come from ``tracker.analytics.client_report`` (Qt-free); this module only lays them out. The same
HTML (a subset both a browser and QTextDocument understand: tables, inline CSS classes, ``align``) makes the HTML
file, with the chart as an embedded PNG data URI, and the PDF, with the chart as a document resource. No display
is needed: a QGuiApplication on the ``offscreen`` platform is enough (the CLI makes one when none exists).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QLocale,
    QMarginsF,
    QPointF,
    QRectF,
    QSizeF,
    Qt,
    QUrl,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QTextDocument,
)

from tracker.analytics.client_report import (
    ESTIMATED_NOTE,
    KIND_LABELS,
    ClientReport,
    OutcomeLine,
    SpendLine,
)
from tracker.analytics.reported import usd_cell
from tracker.analytics.value import ValueFigures, hours_text
from tracker.domain import PICO_PER_USD

INK, MUTED, LINE, HEAD_BG = "#1f2933", "#616e7c", "#d9e2ec", "#f0f4f8"
ESTIMATED_COLOR, REPORTED_COLOR, MARKER_COLOR = "#2f6f8f", "#e0a03a", "#b83280"
CHART_SIZE = (680, 180)  # CSS pixels; drawn at twice that for print
PAPERS = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
_LETTER_TERRITORIES = {QLocale.Country.UnitedStates, QLocale.Country.Canada, QLocale.Country.Mexico,
                       QLocale.Country.Philippines, QLocale.Country.Chile, QLocale.Country.Colombia}
_MARGINS_MM = QMarginsF(18, 12, 18, 12)
_FONT = "'Helvetica Neue', Helvetica, Arial, 'DejaVu Sans', sans-serif"


# ---- text --------------------------------------------------------------------------------------------------


money = usd_cell  # dollars and cents for people, as in the CLI's tables


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _month_title(first: date) -> str:
    return first.strftime("%B %Y")


def _long_date(d: date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


def _value_text(f: ValueFigures) -> str:
    parts = [money(f.value_pusd)] if f.value_known else []
    if f.unvalued_hours:
        parts.append(f"{hours_text(f.unvalued_hours)}\u00a0h")
    return " +\u00a0".join(parts) or "—"


def _spend_text(f: ValueFigures) -> str:
    return money(f.spend_pusd) if f.spend_known else "unpriced"


def _unpriced(n: int) -> str:
    return f"{n:,}" if n else "—"


# ---- the chart ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plot:
    left: float
    top: float
    width: float
    height: float
    top_pusd: int

    def x(self, i: int, n: int) -> float:
        return self.left + self.width * i / n

    def y(self, pusd: int) -> float:
        return self.top + self.height * (1 - pusd / self.top_pusd)


def _nice_top(pusd: int) -> tuple[int, int]:
    """A round axis top at or above ``pusd`` and its step (4 or 5 steps), in pico-USD."""
    if pusd <= 0:
        return PICO_PER_USD, PICO_PER_USD // 4
    step = PICO_PER_USD // 100  # one cent
    while True:
        for mult in (1, 2, 2.5, 5):
            s = int(step * mult)
            if s * 5 >= pusd:
                top = -(-pusd // s) * s
                return top, s
        step *= 10


def chart_image(rep: ClientReport, scale: float = 2.0) -> QImage:
    """Spend per day of the month (estimated and reported stacked), with numbered markers on outcome days."""
    w, h = CHART_SIZE
    img = QImage(int(w * scale), int(h * scale), QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.scale(scale, scale)
        font = QFont()
        font.setPixelSize(11)
        p.setFont(font)
        _draw_chart(p, rep, w, h)
    finally:
        p.end()
    return img


def _draw_chart(p: QPainter, rep: ClientReport, w: int, h: int) -> None:
    peak = max((d.estimated_pusd + d.reported_pusd for d in rep.days), default=0)
    top, step = _nice_top(peak)
    plot = _Plot(56, 26, w - 66, h - 26 - 40, top)
    _draw_grid(p, plot, top, step)
    n = max(len(rep.days), 1)
    bar = plot.width / n
    for i, d in enumerate(rep.days):
        x = plot.x(i, n) + bar * 0.18
        est_top = plot.y(d.estimated_pusd)
        p.fillRect(QRectF(x, est_top, bar * 0.64, plot.top + plot.height - est_top), QColor(ESTIMATED_COLOR))
        if d.reported_pusd:
            rep_top = plot.y(d.estimated_pusd + d.reported_pusd)
            p.fillRect(QRectF(x, rep_top, bar * 0.64, est_top - rep_top), QColor(REPORTED_COLOR))
    _draw_days(p, plot, rep, bar)
    _draw_markers(p, plot, rep, bar)
    _draw_legend(p, w, h)


def _draw_grid(p: QPainter, plot: _Plot, top: int, step: int) -> None:
    p.setPen(QPen(QColor(LINE), 1))
    v = 0
    while v <= top:
        y = plot.y(v)
        p.drawLine(QPointF(plot.left, y), QPointF(plot.left + plot.width, y))
        p.setPen(QColor(MUTED))
        p.drawText(QRectF(0, y - 7, plot.left - 6, 14), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   money(v) if v else "$0")
        p.setPen(QPen(QColor(LINE), 1))
        v += step
    p.setPen(QPen(QColor(MUTED), 1))
    base = plot.top + plot.height
    p.drawLine(QPointF(plot.left, base), QPointF(plot.left + plot.width, base))


def _draw_days(p: QPainter, plot: _Plot, rep: ClientReport, bar: float) -> None:
    p.setPen(QColor(MUTED))
    n = max(len(rep.days), 1)
    base = plot.top + plot.height
    for i, d in enumerate(rep.days):
        if d.day.day == 1 or d.day.day % 5 == 0 or i == len(rep.days) - 1:
            x = plot.x(i, n)
            p.drawText(QRectF(x - 10, base + 3, bar + 20, 14), Qt.AlignmentFlag.AlignHCenter, str(d.day.day))


def _draw_markers(p: QPainter, plot: _Plot, rep: ClientReport, bar: float) -> None:
    """One numbered dot per outcome above its day (stacked when a day has several): the Outcomes table's #."""
    n = max(len(rep.days), 1)
    per_day: dict[date, int] = {}
    font = QFont(p.font())
    font.setPixelSize(8)
    font.setBold(True)
    for o in rep.outcomes:
        if not rep.first <= o.day <= rep.last:
            continue
        k = per_day.get(o.day, 0)
        per_day[o.day] = k + 1
        i = (o.day - rep.first).days
        cx, cy, r = plot.x(i, n) + bar / 2, plot.top - 12 - k * 15, 6.5
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(MARKER_COLOR) if o.status == "kept" else QColor(MUTED))
        p.drawEllipse(QPointF(cx, cy), r, r)
        p.setPen(QColor("white"))
        p.setFont(font)
        p.drawText(QRectF(cx - r, cy - r, 2 * r, 2 * r), Qt.AlignmentFlag.AlignCenter, str(o.number))
        p.setPen(QPen(QColor(MARKER_COLOR), 0.8, Qt.PenStyle.DotLine))
        if k == 0:
            p.drawLine(QPointF(cx, cy + r), QPointF(cx, plot.top + plot.height))
    font.setPixelSize(11)
    font.setBold(False)
    p.setFont(font)


def _draw_legend(p: QPainter, w: int, h: int) -> None:
    y = h - 14
    items = ((ESTIMATED_COLOR, "Estimated (from agent logs)", "box"), (REPORTED_COLOR, "Reported (billed)", "box"),
             (MARKER_COLOR, "Outcome delivered (# in the table)", "dot"))
    x = 56.0
    for color, label, shape in items:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(color))
        if shape == "box":
            p.drawRect(QRectF(x, y - 4, 10, 10))
        else:
            p.drawEllipse(QPointF(x + 5, y + 1), 5, 5)
        p.setPen(QColor(INK))
        p.drawText(QRectF(x + 15, y - 6, 220, 14), Qt.AlignmentFlag.AlignVCenter, label)
        x += 15 + p.fontMetrics().horizontalAdvance(label) + 22
    del w


def png_bytes(img: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")  # type: ignore[call-overload]  # PySide6 wants a str; its stubs say bytes
    buf.close()
    return bytes(data.data())


# ---- the page ----------------------------------------------------------------------------------------------

_CSS = f"""
body {{ font-family: {_FONT}; font-size: 9.5pt; color: {INK}; }}
h1 {{ font-size: 20pt; font-weight: 600; margin: 0; }}
h2 {{ font-size: 11.5pt; font-weight: 600; margin-top: 14pt; margin-bottom: 4pt; color: {INK}; }}
p {{ margin-top: 0; margin-bottom: 4pt; }}
.muted {{ color: {MUTED}; }}
.small {{ font-size: 8pt; }}
.sub {{ font-size: 12pt; color: {MUTED}; }}
table.data {{ border-collapse: collapse; }}
table.data th {{ background-color: {HEAD_BG}; color: {MUTED}; font-weight: 600; font-size: 8.5pt;
                 border-bottom: 1px solid {LINE}; padding: 3px 6px; text-align: left; }}
table.data td {{ border-bottom: 1px solid {LINE}; padding: 3px 6px; }}
table.data td.num, table.data th.num {{ text-align: right; }}
table.data tr.total td {{ font-weight: 600; border-bottom: none; }}
table.kpi td {{ padding: 6px 10px; background-color: {HEAD_BG}; }}
.kpi-label {{ font-size: 8pt; color: {MUTED}; }}
.kpi-value {{ font-size: 13pt; font-weight: 600; }}
"""


def report_html(rep: ClientReport, chart_src: str, chart_width: float, chart_height: float) -> str:
    """The report page; ``chart_src`` is the chart image's URL (a data URI, or a QTextDocument resource name)."""
    parts = [
        "<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\">",
        f"<title>{_e(rep.client)} — AI spend and outcomes, {_e(_month_title(rep.first))}</title>",
        f"<style>{_CSS}</style></head><body>",
        _title_block(rep), _kpis(rep),
        _h2("Spend per day"),
        f'<p><img src="{_e(chart_src)}" width="{chart_width:.0f}" height="{chart_height:.0f}" '
        'alt="Spend per day"></p>',
        _outcomes_table(rep), _projects_table(rep),
        _spend_table("Spend by provider", "Provider", rep.by_provider),
        _spend_table("Spend by model", "Model", rep.by_model),
        _notes(rep), "</body></html>",
    ]
    return "\n".join(parts)


def _h2(title: str) -> str:
    # inline: QTextDocument gives headings its own margins over a class rule's
    return f'<h2 style="margin-top: 16pt; margin-bottom: 4pt;">{_e(title)}</h2>'


def _title_block(rep: ClientReport) -> str:
    return (
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td valign="bottom"><p class="sub">AI spend and outcomes</p><h1>{_e(rep.client)}</h1>'
        f'<p class="sub">{_e(_month_title(rep.first))} '
        f'<span class="small">({rep.first.isoformat()} to {rep.last.isoformat()}, {_e(rep.timezone)})</span></p></td>'
        f'<td valign="bottom" align="right" class="muted small">Prepared with Token Ledger<br>'
        f"{_e(_long_date(rep.prepared))}</td>"
        f'</tr></table><hr style="border: none; height: 2px; background-color: {ESTIMATED_COLOR}; color: '
        f'{ESTIMATED_COLOR};">'
    )


def _kpis(rep: ClientReport) -> str:
    t = rep.totals
    vpd = t.value_per_dollar()
    cost = t.cost_per(t.outcomes)
    cells = [
        ("AI spend", _spend_text(t), f"estimated {money(t.estimated_pusd)} + reported {money(t.reported_pusd)}"),
        ("Outcomes delivered", f"{t.outcomes:,}", f"{t.kept_outcomes:,} kept"),
        ("Value delivered", _value_text(t), "kept outcomes"),
        ("Value per dollar", "—" if vpd is None else f"{vpd}×", "value ÷ AI spend"),
        ("Cost per outcome", money(cost), "AI spend ÷ outcomes"),
    ]
    tds = "".join(
        f'<td width="20%" valign="top"><span class="kpi-label">{_e(label)}</span><br>'
        f'<span class="kpi-value">{_e(value)}</span><br><span class="kpi-label">{_e(note)}</span></td>'
        for label, value, note in cells
    )
    return f'<table class="kpi" width="100%" cellspacing="4" cellpadding="6"><tr>{tds}</tr></table>'


def _table(head: list[tuple[str, bool]], rows: list[list[str]], total: list[str] | None = None) -> str:
    """A data table; ``head`` is (label, right-aligned) per column; money columns are right-aligned."""
    right = ' class="num" align="right"'
    ths = "".join(f"<th{right if num else ''}>{_e(h)}</th>" for h, num in head)
    out = [f'<table class="data" width="100%" cellspacing="0" cellpadding="3"><tr>{ths}</tr>']
    for cells, cls in [(r, "") for r in rows] + ([(total, ' class="total"')] if total else []):
        tds = "".join(f"<td{right if head[i][1] else ''}>{_e(c)}</td>" for i, c in enumerate(cells))
        out.append(f"<tr{cls}>{tds}</tr>")
    out.append("</table>")
    return "".join(out)


def _outcome_value(o: OutcomeLine) -> str:
    parts = [money(o.value_pusd)] if o.value_pusd is not None else []
    if o.hours_saved is not None:
        parts.append(f"{hours_text(o.hours_saved)} h")
    return " + ".join(parts) or "—"


def _outcome_counted(o: OutcomeLine) -> str:
    if o.status != "kept":
        return f"not counted ({o.status})"
    parts = [money(o.counted_pusd)] if o.counted_pusd is not None else []
    if o.unvalued_hours:
        parts.append(f"{hours_text(o.unvalued_hours)} h")
    return " + ".join(parts)


def _outcomes_table(rep: ClientReport) -> str:
    if not rep.outcomes:
        return _h2("Outcomes delivered") + "<p class=\"muted\">No outcomes were logged for this month.</p>"
    head = [("#", False), ("Date", False), ("Outcome", False), ("Project", False), ("Value", True),
            ("Counted", True), ("AI cost", True)]
    rows = [[str(o.number), f"{o.day.day} {o.day:%b}", f"{o.title} · {KIND_LABELS.get(o.kind, o.kind)}", o.project,
             _outcome_value(o), _outcome_counted(o), money(o.attributed_pusd)] for o in rep.outcomes]
    t = rep.totals
    total = ["", "", "Total (kept outcomes)", "", "", _value_text(t), ""]
    return (_h2("Outcomes delivered") + _table(head, rows, total)
            + '<p class="muted small">AI cost: the project\'s AI spend since its previous outcome. Redone or '
            "abandoned outcomes are listed but their value is not counted.</p>")


def _projects_table(rep: ClientReport) -> str:
    if not rep.projects:
        return ""
    head = [("Project", False), ("Estimated", True), ("Reported", True), ("Unpriced requests", True),
            ("Outcomes", True), ("Value", True), ("Value / $", True)]
    rows = []
    for f in rep.projects:
        vpd = f.value_per_dollar()
        rows.append([f.key, money(f.estimated_pusd), money(f.reported_pusd), _unpriced(f.unpriced_records),
                     f"{f.outcomes:,}", _value_text(f), "—" if vpd is None else f"{vpd}×"])
    t = rep.totals
    vpd = t.value_per_dollar()
    total = ["Total", money(t.estimated_pusd), money(t.reported_pusd), _unpriced(t.unpriced_records),
             f"{t.outcomes:,}", _value_text(t), "—" if vpd is None else f"{vpd}×"]
    return _h2("By project") + _table(head, rows, total)


def _spend_table(title: str, what: str, lines: list[SpendLine]) -> str:
    if not lines:
        return ""
    by_model = what == "Model"
    head = [(what, False), *([("Provider", False)] if by_model else []), ("Estimated", True), ("Reported", True),
            ("Unpriced requests", True)]
    rows = [[x.name, *([x.provider or ""] if by_model else []), money(x.estimated_pusd), money(x.reported_pusd),
             _unpriced(x.unpriced_records)] for x in lines]
    total = ["Total", *([""] if by_model else []), money(sum(x.estimated_pusd for x in lines)),
             money(sum(x.reported_pusd for x in lines)), _unpriced(sum(x.unpriced_records for x in lines))]
    return _h2(title) + _table(head, rows, total)


def _notes(rep: ClientReport) -> str:
    rate = ("Hours saved are valued at " + money(int(rep.hourly_rate_usd * PICO_PER_USD)) + " an hour."
            if rep.hourly_rate_usd is not None else "Hours saved are shown as hours (no hourly rate is set).")
    return (
        _h2("About these figures") +
        f'<p class="small">{_e(ESTIMATED_NOTE)}</p>'
        f'<p class="small">AI spend = estimated + reported. {_e(rate)} Value per dollar = value of kept outcomes '
        f"÷ AI spend; cost per outcome = AI spend ÷ outcomes. Days are cut in {_e(rep.timezone)}; provider bills "
        "count on their UTC date.</p>"
    )


# ---- files -------------------------------------------------------------------------------------------------


def write_html(rep: ClientReport, path: Path) -> None:
    """One self-contained file: inline CSS, the chart as a PNG data URI."""
    img = chart_image(rep, scale=2.0)
    src = "data:image/png;base64," + base64.b64encode(png_bytes(img)).decode("ascii")
    page = report_html(rep, src, *CHART_SIZE)
    # a browser page: a readable column, a little larger than print
    screen = '<body style="max-width: 760px; margin: 32px auto; padding: 0 16px; font-size: 10.5pt;">'
    body = page.replace("<body>", screen, 1)
    path.write_text(body, encoding="utf-8")


def paper_for(locale: QLocale | None = None) -> str:
    """"letter" where Letter paper is the norm (the US, Canada, Mexico, ...), else "a4"."""
    loc = QLocale.system() if locale is None else locale
    return "letter" if loc.territory() in _LETTER_TERRITORIES else "a4"


def write_pdf(rep: ClientReport, path: Path, paper: str | None = None) -> int:
    """Write the PDF; returns its page count. Page numbers ("Page 1 of 2") only when there is more than one."""
    writer = QPdfWriter(str(path))
    writer.setTitle(f"{rep.client} — AI spend and outcomes, {_month_title(rep.first)}")
    writer.setCreator("Token Ledger")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(PAPERS[paper or paper_for()]), QPageLayout.Orientation.Portrait,
                                     _MARGINS_MM, QPageLayout.Unit.Millimeter))
    body = writer.pageLayout().paintRectPixels(writer.resolution())
    doc = _document(rep, writer, float(body.width()))
    footer = writer.resolution() * 0.25  # room for the page number
    doc.setPageSize(QSizeF(body.width(), body.height() - footer))
    pages = doc.pageCount()
    painter = QPainter(writer)
    try:
        for i in range(pages):
            if i:
                writer.newPage()
            _paint_page(painter, doc, (i, pages), QRectF(0, 0, body.width(), body.height()))
    finally:
        painter.end()
    return pages


def _document(rep: ClientReport, writer: QPdfWriter, width: float) -> QTextDocument:
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)  # lay fonts out at the PDF's resolution, not the screen's
    doc.setDocumentMargin(0)
    font = QFont("DejaVu Sans")
    font.setStyleHint(QFont.StyleHint.SansSerif)
    font.setPointSizeF(9.5)
    doc.setDefaultFont(font)
    img = chart_image(rep, scale=3.0)
    # QTextDocument scales images by the device's DPI over the screen's: give the size in screen pixels
    css_width = width * _screen_dpi() / writer.logicalDpiX()
    doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl("chart.png"), img)
    doc.setHtml(report_html(rep, "chart.png", css_width, css_width * CHART_SIZE[1] / CHART_SIZE[0]))
    return doc


def _screen_dpi() -> float:
    screen = QGuiApplication.primaryScreen()
    return float(screen.logicalDotsPerInchX()) if screen is not None else 96.0


def _paint_page(painter: QPainter, doc: QTextDocument, page: tuple[int, int], body: QRectF) -> None:
    index, pages = page
    width, page_h = body.width(), doc.pageSize().height()
    painter.save()
    painter.translate(0, -index * page_h)
    clip = QRectF(0, index * page_h, width, page_h)
    path = QPainterPath()
    path.addRect(clip)
    painter.setClipPath(path)
    doc.drawContents(painter, clip)
    painter.restore()
    if pages > 1:
        font = QFont(doc.defaultFont())
        font.setPointSizeF(8)
        painter.setFont(font)
        painter.setPen(QColor(MUTED))
        painter.drawText(QRectF(0, page_h, width, body.height() - page_h),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom, f"Page {index + 1} of {pages}")
