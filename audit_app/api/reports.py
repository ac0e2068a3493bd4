"""Generated PDF reports: request one (the kinds the report pages make), follow its state, download it.

The same operations as the pages' *PDF* button (``reports.operations``: queued for a worker when
Redis is configured, made in the request otherwise); a client's token sees only what
``GeneratedReport.visible_to`` lets it see (404 otherwise), its list only its client's released ones.
"""

from __future__ import annotations

from flask import abort, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import false, select

from ..accounts.models import Client
from ..core.access import get_for_client, roles
from ..reports import operations, queries
from ..reports import views as report_views
from ..reports.models import GeneratedReport
from ..visits.models import Location, Visit
from .blueprint import blp
from .pagination import page
from .schemas import PageArgs, ReportIn, ReportOut, ReportPage

REPORT_ROLES = ("admin", "client")


def report_out(rows: list[GeneratedReport]) -> list[dict]:
    titles = queries.report_titles(rows)
    return [{
        "id": r.id, "client_id": r.client_id, "scope": r.scope, "ref": r.scope_ref or "", "title": titles[r.id],
        "period_start": r.period_start, "period_end": r.period_end, "language": r.language, "state": r.state,
        "progress": r.progress, "size_bytes": r.size_bytes, "created_at": r.created_at, "finished_at": r.finished_at,
        "download_url": url_for("api.download_report", report_id=r.id, _external=True) if r.state == "done" else None,
    } for r in rows]


@blp.route("/reports", methods=["GET"])
@roles(*REPORT_ROLES)
@blp.arguments(PageArgs, location="query", as_kwargs=True)
@blp.response(200, ReportPage)
def list_reports(cursor, limit):
    """The caller's stored reports as on *My reports*: a client's user, its client's released ones; an
    admin, the ones the admin requested."""
    conditions = queries.generated_conditions(current_user)
    stmt = select(GeneratedReport).where(*(conditions if conditions is not None else [false()]))
    rows, next_cursor = page(stmt, GeneratedReport.id, cursor, limit)
    return {"items": report_out(rows), "next_cursor": next_cursor}


@blp.route("/reports", methods=["POST"])
@roles(*REPORT_ROLES)
@blp.arguments(ReportIn)
@blp.response(202, ReportOut)
def request_report(data):
    """Request a PDF: a visit report (ref: the visit id), a location report (ref: its id), a channel report
    (ref: the channel code) or a client summary over a period. Follow ``GET /reports/{id}`` until done."""
    client = get_for_client(Client, data["client_id"])
    scope, ref = data["scope"], data["ref"]
    if scope in ("visit", "location"):
        subject = get_for_client(Visit if scope == "visit" else Location, ref)
        if subject.client_id != client.id:
            abort(404)
    start, end = operations.report_period(data["start"], data["end"])
    row = operations.create_generated(client.id, scope, ref if scope != "client" else "", start, end,
                                      data["language"] or str(get_locale() or "fi"), current_user)
    operations.start_generated(row)
    return report_out([row])[0]


@blp.route("/reports/<int:report_id>", methods=["GET"])
@roles(*REPORT_ROLES)
@blp.response(200, ReportOut)
def get_report(report_id: int):
    """A stored report's state (queued, rendering, done, failed) and progress; its download link when done."""
    return report_out([get_for_client(GeneratedReport, report_id)])[0]


@blp.route("/reports/<int:report_id>/download", methods=["GET"])
@roles(*REPORT_ROLES)
@blp.response(200, content_type="application/pdf", description="The PDF")
def download_report(report_id: int):
    """The PDF of a report that is done, exactly as *My reports* serves it."""
    return report_views.generated_download(report_id=report_id)
