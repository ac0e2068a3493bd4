"""HTML and PDF rendering of report data (WeasyPrint).

WeasyPrint gets plain report data rendered into HTML and a URL fetcher that serves
``storage:<key>`` from the evidence Storage (with a cache shared within one render) and the
report's own charts as ``chart:<name>`` (SVG drawn by matplotlib for this render), and refuses
everything else: no ``file:``, no ``data:``, no HTTP round trip to ourselves, no outside URLs.
"""

from __future__ import annotations

import base64
import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import charts
from .queries import Report

STORAGE_SCHEME = "storage:"
CHART_SCHEME = "chart:"


class StorageFetcher(URLFetcher):
    """Serves ``storage:`` URLs from Storage and ``chart:`` URLs from ``charts``; refuses every other scheme."""

    def __init__(self, storage=None, cache: dict | None = None, charts: dict[str, str] | None = None):
        super().__init__(allowed_protocols=())
        self.storage = storage
        self.cache = cache if cache is not None else {}
        self.charts = charts or {}

    def fetch(self, url, headers=None):
        if url.startswith(CHART_SCHEME):
            svg = self.charts.get(url[len(CHART_SCHEME):])
            if svg is None:
                raise ValueError(f"refused unknown chart: {url[:80]}")
            return URLFetcherResponse(url, svg.encode("utf-8"), {"Content-Type": "image/svg+xml"})
        if not url.startswith(STORAGE_SCHEME):
            raise ValueError(f"refused URL outside Storage: {url[:80]}")
        key = url[len(STORAGE_SCHEME):]
        if not key or ".." in key.split("/"):
            raise ValueError("refused storage key")
        if key not in self.cache:
            storage = self.storage
            if storage is None:
                from ..evidence.storage import get_storage

                storage = self.storage = get_storage()
            self.cache[key] = storage.get(key)
        mime = mimetypes.guess_type(key)[0] or _sniff(self.cache[key])
        return URLFetcherResponse(url, self.cache[key], {"Content-Type": mime})


def _sniff(data: bytes) -> str:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def report_charts(report: Report, titled: bool = True) -> dict[str, str]:
    """The report's charts as standalone SVG documents, by name. A PDF gives the dimension chart its
    title as a heading of the page (``titled=False``): text is cheaper to lay out there than in the chart."""
    from flask_babel import gettext as _

    out = {"dimensions": charts.dimension_chart(report.dimensions, _("Score by dimension") if titled else "")}
    if len(report.trend) > 1:
        out["trend"] = charts.trend_chart(report.trend)
    out.update((getattr(report, "improvement", None) or {}).get("charts", {}))  # the perception gap (improvement)
    return out


def _data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def page_charts(dimensions: list[dict], trend: list[dict]) -> dict[str, dict[str, str]]:
    """The charts of a web page as images, each drawn twice: ``wide`` for a screen, ``narrow`` for a phone
    (a chart scaled down to a phone's width would shrink its text to a few pixels).

    They are ``data:`` URLs: an inline SVG would need style attributes and a style element, which the
    Content-Security-Policy refuses, while an image's own SVG styles are its own business. The same
    plotting code draws the PDF's charts.
    """
    from flask_babel import gettext as _

    def alt(title, items):
        return f"{title}: " + ", ".join(f"{name} {display}" for name, display in items)

    out = {"dimensions": {"wide": _data_url(charts.dimension_chart(dimensions)),
                          "narrow": _data_url(charts.dimension_chart(dimensions, compact=True)),
                          "alt": alt(_("Score by dimension"), ((d["name"], d["display"]) for d in dimensions))}}
    if len(trend) > 1:
        out["trend"] = {"wide": _data_url(charts.trend_chart(trend)),
                        "narrow": _data_url(charts.trend_chart(trend, compact=True)),
                        "alt": alt(_("Trend by month"), ((p.get("month_label") or p["month"], p["display"])
                                                         for p in trend))}
    return out


def report_html(report: Report, chart_names=("dimensions",)) -> str:
    return render_template("reports/pdf/report.html", r=report, charts=set(chart_names))


@lru_cache(maxsize=4)
def _stylesheet(path: str, mtime: float) -> CSS:
    """The PDF stylesheet, parsed once per process (and again when the file changes)."""
    return CSS(string=Path(path).read_text(encoding="utf-8"))


def pdf_stylesheet() -> CSS:
    path = Path(current_app.root_path, current_app.template_folder, "reports", "pdf", "_style.css").resolve()
    return _stylesheet(str(path), path.stat().st_mtime)


def render_pdf(report: Report, storage=None, cache: dict | None = None, progress=None) -> bytes:
    """The report as a tagged (PDF/UA-1) A4 PDF."""
    svgs = report_charts(report, titled=False)
    html = report_html(report, svgs)
    if progress:
        progress(50)
    fetcher = StorageFetcher(storage, cache, charts=svgs)
    document = HTML(string=html, base_url="storage:/", url_fetcher=fetcher).render(
        stylesheets=[pdf_stylesheet()], pdf_variant="pdf/ua-1")
    if progress:
        progress(85)
    return document.write_pdf(pdf_variant="pdf/ua-1")
