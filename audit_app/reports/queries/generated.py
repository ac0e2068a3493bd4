"""Stored PDF reports, scoped to who may see them (``GeneratedReport.client_may_see``), and what each is
called: a title for people ("Location report · Kamppi, Helsinki · 1.9.–30.11.2026") and an ASCII-safe
file name (``pohjolan-pankki_location_kamppi-helsinki_2026-09-01_2026-11-30.pdf``)."""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select

from ...accounts.models import Client
from ...core.labels import channel_label
from ...core.models import db
from ...visits.models import CHANNELS, Location, Visit
from ..models import ExportJob, GeneratedReport
from .base import date_interval

MAX_LISTED = 200


def generated_conditions(user) -> list | None:
    """Which stored reports the user's list holds (None: none): a client's user, its client's released
    reports; an admin, the reports the admin made."""
    if user.is_client and user.client_id is not None:
        return [GeneratedReport.client_id == user.client_id, GeneratedReport.client_may_see()]
    if user.is_admin:
        return [GeneratedReport.created_by_id == user.id]
    return None


def export_jobs(user) -> list[ExportJob]:
    """The user's exports made by a worker, newest first: a client's user, its client's; an admin, the
    exports the admin asked for (the list on the My reports page, which leads back to each one)."""
    if user.is_client and user.client_id is not None:
        condition = ExportJob.client_id == user.client_id
    elif user.is_admin:
        condition = ExportJob.created_by_id == user.id
    else:
        return []
    return list(db.session.scalars(select(ExportJob).where(condition)
                                   .order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(MAX_LISTED)))


def generated_reports(user) -> tuple[list[GeneratedReport], set[int]]:
    """The user's list of stored reports, newest first, and the ids of those its client cannot see.

    A client's user: its client's reports while they are released. An admin: the reports the admin
    made, internal ones (made of unapproved visits, or with a visit withdrawn since) marked.
    """
    shown = case((GeneratedReport.client_may_see(), True), else_=False)
    stmt = (select(GeneratedReport, shown)
            .order_by(GeneratedReport.created_at.desc(), GeneratedReport.id.desc()).limit(MAX_LISTED))
    conditions = generated_conditions(user)
    if conditions is None:
        return [], set()
    stmt = stmt.where(*conditions)
    rows = db.session.execute(stmt).all()
    return [row for row, _visible in rows], {row.id for row, visible in rows if not visible}


# --- what a stored report is called ----------------------------------------------------------

SCOPE_TITLES = {"visit": _l("Visit report"), "location": _l("Location report"), "channel": _l("Channel report"),
                "client": _l("Client summary")}
#: one word for the scope in a file name (ASCII once transliterated)
SCOPE_FILE_WORDS = {"visit": _l("visit"), "location": _l("location"), "channel": _l("channel"),
                    "client": _l("summary")}


def _subjects(rows) -> dict[int, dict]:
    """{report id: {client, subject, day}}: the names of what each report covers, in a few statements."""
    location_ids = {int(r.scope_ref) for r in rows if r.scope == "location" and r.scope_ref.isdigit()}
    visit_ids = {int(r.scope_ref) for r in rows if r.scope == "visit" and r.scope_ref.isdigit()}
    client_ids = {r.client_id for r in rows}
    clients = dict(db.session.execute(select(Client.id, Client.name).where(Client.id.in_(client_ids))).all()) \
        if client_ids else {}
    locations = {r.id: r for r in db.session.execute(
        select(Location.id, Location.name, Location.city).where(Location.id.in_(location_ids)))} \
        if location_ids else {}
    visits = {r.id: r for r in db.session.execute(
        select(Visit.id, Visit.channel, Visit.visited_on, Location.name, Location.city)
        .outerjoin(Location, Location.id == Visit.location_id).where(Visit.id.in_(visit_ids)))} if visit_ids else {}
    out = {}
    for r in rows:
        subject, day = "", None
        if r.scope == "location":
            place = locations.get(int(r.scope_ref)) if r.scope_ref.isdigit() else None
            subject = _place(place.name, place.city) if place else ""
        elif r.scope == "channel":
            subject = channel_label(r.scope_ref) if r.scope_ref in CHANNELS else ""
        elif r.scope == "visit":
            v = visits.get(int(r.scope_ref)) if r.scope_ref.isdigit() else None
            if v is not None:
                subject = " · ".join(x for x in (_place(v.name, v.city), channel_label(v.channel)) if x)
                day = v.visited_on
        out[r.id] = {"client": clients.get(r.client_id, ""), "subject": subject, "day": day}
    return out


def _place(name: str | None, city: str | None) -> str:
    return ", ".join(x for x in (name, city) if x and not (x == city and city in (name or "")))


def report_titles(rows) -> dict[int, str]:
    """{report id: its title in the reader's language}, e.g. "Location report · Kamppi, Helsinki ·
    1.9.–30.11.2026", "Channel report · Phone · ...", "Visit report · Kamppi, Helsinki · In person · 24.11.2026"."""
    from ...core.dates import day

    subjects = _subjects(rows)
    out = {}
    for r in rows:
        s = subjects[r.id]
        when = date_interval(r.period_start, r.period_end) if r.period_start and r.period_end else day(s["day"])
        out[r.id] = " · ".join(str(x) for x in (SCOPE_TITLES.get(r.scope, ""), s["subject"], when) if x)
    return out


_FINNISH = str.maketrans({"ä": "a", "Ä": "A", "ö": "o", "Ö": "O", "å": "a", "Å": "A"})


def slug(text: str, limit: int = 60) -> str:
    """ASCII lower-case words joined by hyphens: "Järvenrannan Hotellit" -> "jarvenrannan-hotellit"."""
    text = unicodedata.normalize("NFKD", str(text).translate(_FINNISH)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].strip("-")


def report_filename(row: GeneratedReport) -> str:
    """The file name of a stored report, in the report's own language, ASCII only and without ids:
    client, scope, subject and period (ISO dates), e.g.
    ``pohjolan-pankki_location_kamppi-helsinki_2026-09-01_2026-11-30.pdf``."""
    from flask_babel import force_locale

    with force_locale(row.language or "fi"):
        s = _subjects([row])[row.id]
        parts = [slug(s["client"]) or "report", slug(str(SCOPE_FILE_WORDS.get(row.scope, row.scope)))]
        parts.append(slug(s["subject"].replace(" · ", " ")))
    if row.period_start and row.period_end:
        parts += [row.period_start.isoformat(), row.period_end.isoformat()]
    elif s["day"]:
        parts.append(s["day"].isoformat())
    return "_".join(p for p in parts if p) + ".pdf"



