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
from .models import SCOPES, ClientLogo, GeneratedReport, GeneratedReportVisit

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
