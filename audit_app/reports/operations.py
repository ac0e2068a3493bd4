"""Writes of the reports package: generated PDFs and client logos. Operations flush; callers commit."""

from __future__ import annotations

import io
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Integer, delete, insert, literal, select

from ..core.errors import DomainError
from ..core.labels import channel_label
from ..core.models import db, utcnow
from ..visits.models import CHANNELS, Location, Visit
from . import queries
from .models import SCOPES, ClientLogo, ExportJob, GeneratedReport, GeneratedReportVisit

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_PIXELS = 20_000_000
LOGO_BOX = (1200, 400)


def _storage():
    from ..evidence.storage import get_storage

    return get_storage()


# --- building report data from a scope -------------------------------------------------------


def build_report(scope: str, client_id: int, ref: str, start: date | None, end: date | None,
                 language: str) -> queries.Report:
    """The plain report data of a scope. ``ref`` is the visit or location id or the channel code.

    Period scopes read approved visits only; a visit report shows its visit whatever its status.
    """
    if scope == "visit":
        report = queries.visit_report(int(ref), language)
    else:
        f = queries.Filters(client_id=client_id, start=start, end=end)
        if scope == "location":
            location = queries.base.read.execute(  # the report's own data: from the replica when there is one
                select(Location.id, Location.name, Location.city).where(Location.id == int(ref))
            ).one()
            f = queries.Filters(client_id=client_id, start=start, end=end, location_id=location.id)
            subject = ", ".join(x for x in (location.name, location.city) if x)
        elif scope == "channel":
            f = queries.Filters(client_id=client_id, start=start, end=end, channel=ref)
            subject = channel_label(ref)
        else:
            subject = ""  # the client's name is the report's own: not repeated as its subject
        report = queries.period_report(scope, f, language, subject)
        report.targets = _targets(report)
        if scope == "client":
            from ..improvement.queries import summary_for_pdf

            report.improvement = summary_for_pdf(client_id, f.start, f.end, language)  # gap page, actions
    logo = db.session.get(ClientLogo, client_id)
    report.logo_url = f"storage:{logo.storage_key}" if logo else None
    return report


def _targets(report) -> list[dict]:
    """The client's targets beside the report's figures, met or not, with the signed gap (improvement)."""
    from ..improvement.queries import report_targets

    return report_targets(report.filters, report.overall, report.dimensions, report.language)


def check_scope(scope: str, client_id: int, ref: str) -> None:
    """Refuse a scope reference outside the client (a DomainError, shown as 4xx)."""
    if scope not in SCOPES:
        raise DomainError(_("Unknown report type."), field="scope")
    if scope == "visit":
        ok = ref.isdigit() and db.session.scalar(
            select(Visit.id).where(Visit.id == int(ref), Visit.client_id == client_id,
                                   Visit.score_overall.is_not(None)))
    elif scope == "location":
        ok = ref.isdigit() and db.session.scalar(
            select(Location.id).where(Location.id == int(ref), Location.client_id == client_id))
    elif scope == "channel":
        ok = ref in CHANNELS
    else:
        ok = True
    if not ok:
        raise DomainError(_("There is no such report subject."), field="scope")


# --- generated (stored) PDFs ----------------------------------------------------------------


def create_generated(client_id: int, scope: str, ref: str, start: date | None, end: date | None, language: str,
                     user) -> GeneratedReport:
    """A report to be made. A visit report is released (its client may see it) only if its visit is
    approved now; period reports read approved visits only. Rendering records what went in."""
    check_scope(scope, client_id, ref)
    row = GeneratedReport(
        client_id=client_id, scope=scope, scope_ref=str(ref if scope != "client" else ""),
        period_start=start if scope != "visit" else None, period_end=end if scope != "visit" else None,
        language=language if language in ("fi", "en") else "fi", state="queued", progress=0,
        created_by_id=user.id if user is not None else None,
    )
    db.session.add(row)
    db.session.flush()
    if scope == "visit":
        _record_visits(row, select(Visit.id).where(Visit.id == int(ref)))
    else:
        row.released = True
        db.session.flush()
    return row


def report_period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period of a requested report: the default period where a date is not given; at most five years."""
    default_start, default_end = queries.default_period()
    start, end = start or default_start, end or default_end
    if end < start or (end - start).days + 1 > queries.MAX_PERIOD_DAYS:
        raise DomainError(_("Choose a period of at most five years."), field="start")
    return start, end


def start_generated(row: GeneratedReport) -> str:
    """Make a requested report: queued for a worker when ``REDIS_URL`` is set and Redis answers (once
    the request has committed), rendered here otherwise. Returns ``queued``, ``done`` or ``failed``
    (the row keeps its error and is committed with the request; the user may try again)."""
    from flask import current_app

    if current_app.config.get("REDIS_URL"):
        from . import jobs

        try:
            jobs.check_queue()
        except jobs.QueueUnavailable:  # Redis is down: make it here rather than lose the request
            current_app.logger.exception("report %s: queue unavailable, rendering in the request", row.id)
        else:
            jobs.enqueue_after_commit(row.id)  # the worker must find the row: queued once it is committed
            return "queued"
    try:
        render_generated(row)
    except Exception:  # noqa: BLE001  (the row says it failed)
        current_app.logger.exception("report %s failed to render", row.id)
        return "failed"
    return "done"


def _record_visits(row: GeneratedReport, visit_ids) -> None:
    """Record the visits (a SELECT of ids) that went into ``row``, and whether all are approved now."""
    db.session.execute(delete(GeneratedReportVisit).where(GeneratedReportVisit.report_id == row.id))
    ids = visit_ids.subquery()
    db.session.execute(insert(GeneratedReportVisit).from_select(
        ["report_id", "visit_id"], select(literal(row.id, Integer), ids.c.id)))
    unapproved = db.session.scalar(
        select(GeneratedReportVisit.visit_id).join(Visit, Visit.id == GeneratedReportVisit.visit_id)
        .where(GeneratedReportVisit.report_id == row.id, Visit.status != "approved").limit(1))
    row.released = unapproved is None
    db.session.flush()


def render_generated(row: GeneratedReport, storage=None, on_progress=None) -> GeneratedReport:
    """Build the report data, render the PDF, keep it in Storage. Flushes; the caller commits."""
    from .rendering import render_pdf

    storage = storage or _storage()

    def progress(value: int) -> None:
        row.progress = value
        if on_progress:
            on_progress(row)

    row.state = "rendering"
    progress(10)
    try:
        with force_locale(row.language):
            report = build_report(row.scope, row.client_id, row.scope_ref, row.period_start, row.period_end,
                                  row.language)
            # what went in, recorded as soon as it is read: a visit that leaves "approved" later hides it
            _record_visits(row, queries.report_visit_ids(report))
            if report.visit is not None and report.visit["status"] != "approved":
                row.released = False
            progress(30)
            pdf = render_pdf(report, storage=storage, cache={}, progress=progress)
        key = f"reports/{row.client_id}/{row.id}.pdf"
        storage.put(key, pdf, "application/pdf")
    except Exception as exc:  # a failed render is shown to the user, never a lost request
        row.state = "failed"
        row.error = str(exc)[:2000]
        row.finished_at = utcnow()
        db.session.flush()
        raise
    row.storage_key = key
    row.size_bytes = len(pdf)
    row.state = "done"
    row.progress = 100
    row.finished_at = utcnow()
    db.session.flush()
    return row


def pdf_bytes(row: GeneratedReport, storage=None) -> bytes:
    return (storage or _storage()).get(row.storage_key)


def filename(row: GeneratedReport) -> str:
    """A readable, ASCII-safe file name without ids (``queries.report_filename``)."""
    return queries.report_filename(row)


# --- export jobs -----------------------------------------------------------------------------

#: rows between two progress reports of an export job
PROGRESS_EVERY = 5000


def create_export(client_id: int, kind: str, fmt: str, f: queries.Filters, language: str, user) -> ExportJob:
    """An export to be written by a worker (``jobs.export_job``)."""
    row = ExportJob(client_id=client_id, kind=kind, fmt=fmt, filters=f.as_args(), state="queued",
                    language=language if language in ("fi", "en") else "fi",
                    created_by_id=user.id if user is not None else None)
    db.session.add(row)
    db.session.flush()
    return row


def queue_export(client_id: int, kind: str, fmt: str, f: queries.Filters, language: str, user) -> ExportJob | None:
    """An export for a worker, queued once the request has committed; ``None`` when there is no queue
    (no ``REDIS_URL``, or Redis does not answer): the caller streams the export in the request instead."""
    from flask import current_app

    if not current_app.config.get("REDIS_URL"):
        return None
    from . import jobs

    try:
        jobs.check_queue()
    except jobs.QueueUnavailable:
        current_app.logger.exception("export: queue unavailable, streamed in the request instead")
        return None
    row = create_export(client_id, kind, fmt, f, language, user)
    jobs.enqueue_export_after_commit(row.id)  # the worker must find the row: queued once it is committed
    return row


def export_filters(row: ExportJob) -> queries.Filters:
    v = row.filters or {}

    def number(name):
        return int(v[name]) if str(v.get(name) or "").isdigit() else None

    return queries.Filters(client_id=row.client_id, start=date.fromisoformat(v["start"]),
                           end=date.fromisoformat(v["end"]), location_id=number("location_id"),
                           region=v.get("region") or None, channel=v.get("channel") or None,
                           version_id=number("version_id"))


def run_export(row: ExportJob, storage=None, on_progress=None) -> ExportJob:
    """Write the export's file as the rows come (a temporary file on disk), then keep it in Storage.

    ``on_progress(rows_written, rows_total)`` is called every ``PROGRESS_EVERY`` rows. ``row`` itself is
    changed only at the end, once the rows' cursor is closed. Flushes; the caller commits."""
    import tempfile

    from . import export_files

    storage = storage or _storage()
    f = export_filters(row)
    written = 0
    try:
        with force_locale(row.language):
            total = queries.export_count(row.kind, f)
            build = queries.export_visits if row.kind == "visits" else queries.export_answers
            header, rows = build(f, row.language)

            def counted():
                nonlocal written
                for r in rows:
                    yield r
                    written += 1
                    if on_progress and written % PROGRESS_EVERY == 0:
                        on_progress(written, max(total, written))

            if on_progress:
                on_progress(0, total)
            if row.fmt == "csv":
                fh = tempfile.TemporaryFile()
                for chunk in export_files.csv_chunks(header, counted()):
                    fh.write(chunk)
                content_type = export_files.CSV_TYPE
            else:
                fh = export_files.xlsx_file(export_files.sheet_name(row.kind), header, counted())
                content_type = export_files.XLSX_TYPE
        with fh:
            size = fh.seek(0, io.SEEK_END)
            fh.seek(0)
            key = f"exports/{row.client_id}/{row.id}.{row.fmt}"
            storage.put_file(key, fh, content_type)
    except Exception as exc:  # the status page says it failed; the user may ask again
        row.state = "failed"
        row.error = str(exc)[:2000]
        row.finished_at = utcnow()
        db.session.flush()
        raise
    if on_progress:
        on_progress(written, written)
    row.rows, row.storage_key, row.size_bytes = written, key, size
    row.state = "done"
    row.finished_at = utcnow()
    db.session.flush()
    return row


# --- logos ----------------------------------------------------------------------------------


def save_logo(client_id: int, data: bytes, storage=None) -> ClientLogo:
    """Check an uploaded logo by content, shrink it, store it as PNG without metadata."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise DomainError(_("Choose an image file."), field="logo")
    if len(data) > LOGO_MAX_BYTES:
        raise DomainError(_("The logo may be at most 2 MB."), field="logo")
    Image.MAX_IMAGE_PIXELS = LOGO_MAX_PIXELS
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format not in ("PNG", "JPEG", "WEBP"):
                raise DomainError(_("The logo must be a PNG, JPEG or WebP image."), field="logo")
            if img.width * img.height > LOGO_MAX_PIXELS:
                raise DomainError(_("The image is too large."), field="logo")
            img.load()
            img = img.convert("RGBA")
            img.thumbnail(LOGO_BOX)
            out = io.BytesIO()
            img.save(out, format="PNG", optimize=True)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DomainError(_("The logo must be a PNG, JPEG or WebP image."), field="logo") from None
    key = f"logos/{client_id}.png"
    (storage or _storage()).put(key, out.getvalue(), "image/png")
    logo = db.session.get(ClientLogo, client_id)
    if logo is None:
        logo = ClientLogo(client_id=client_id, storage_key=key, content_type="image/png")
        db.session.add(logo)
    logo.storage_key, logo.content_type, logo.uploaded_at = key, "image/png", utcnow()
    db.session.flush()
    return logo
