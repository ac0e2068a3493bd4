"""What every report read shares: the filters, grades, names and lookups of plain report data.

Nothing in ``queries`` returns ORM objects, and nothing recomputes answers: every figure is a mean
or a count of what the scoring engine stored at submission (``visits.score_overall``,
``visit_dimension_scores``, ``answers.fraction``/``failed``, ``visits.score_data``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import select

from ...accounts.models import Client
from ...checklists.models import DEFAULT_GRADE_LABELS, ChecklistVersion, Dimension, Question, Section, tr
from ...core.models import db
from ...evidence.integrity import window_flag
from ...evidence.models import Photo
from ...scoring import DEFAULT_GRADE_BANDS, display, grade
from ...visits.models import Location, Visit

MAX_PERIOD_DAYS = 366 * 5
TREND_MONTHS = 12
TOP_FAILED = 10
MAX_CRITICAL = 25
MAX_FAILED_QUESTIONS = 200
MAX_FAILED_ITEMS = 500


# --- where reports read --------------------------------------------------------------------


class _Reader:
    """``db.session``'s execute/scalar/scalars, on the read replica when ``DATABASE_REPLICA_URL`` is set
    (``replica_engine``): dashboards, reports and exports read through it, the lookups they make of
    names, versions and photos included. Writes, and reads that must see the request's own writes
    (stored PDFs, the rollups' recomputation, the scoped lookups of access), use ``db.session`` itself."""

    @staticmethod
    def _bind() -> dict:
        engine = replica_engine()
        return {"bind_arguments": {"bind": engine}} if engine is not None else {}

    def execute(self, stmt, *args, **kw):
        return db.session.execute(stmt, *args, **kw, **self._bind())

    def scalar(self, stmt, *args, **kw):
        return db.session.scalar(stmt, *args, **kw, **self._bind())

    def scalars(self, stmt, *args, **kw):
        return db.session.scalars(stmt, *args, **kw, **self._bind())

    def dialect(self) -> str:
        return (replica_engine() or db.engine).dialect.name


def replica_engine():
    """The replica's engine (the ``replica`` bind), or None when every read goes to the primary."""
    from flask import current_app

    if not current_app.config.get("DATABASE_REPLICA_URL"):
        return None
    engine = db.engines.get("replica")
    if engine is None:
        raise RuntimeError("DATABASE_REPLICA_URL is set without its bind: build the settings with "
                           "config.replica_settings(url)")
    return engine


read = _Reader()


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a dashboard, report or export covers: approved (released) visits only, for everyone."""

    client_id: int
    start: date
    end: date
    location_id: int | None = None
    region: str | None = None
    channel: str | None = None
    version_id: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of equal length just before this one."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def as_args(self) -> dict:
        args = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("location_id", "region", "channel", "version_id"):
            value = getattr(self, name)
            if value not in (None, ""):
                args[name] = value
        return args


def default_period(today: date | None = None) -> tuple[date, date]:
    """The last 90 days up to today."""
    today = today or date.today()
    return today - timedelta(days=89), today


def _conditions(f: Filters, start: date | None = None, end: date | None = None) -> list:
    """WHERE clauses for ``f`` (the period may be widened by the caller)."""
    conds = [
        Visit.client_id == f.client_id,
        Visit.status == "approved",
        Visit.calibration.is_(False),  # a calibration round's visit is never a client figure (quality)
        Visit.score_overall.is_not(None),
        Visit.visited_on >= (start or f.start),
        Visit.visited_on <= (end or f.end),
    ]
    if f.location_id:
        conds.append(Visit.location_id == f.location_id)
    if f.channel:
        conds.append(Visit.channel == f.channel)
    if f.version_id:
        conds.append(Visit.checklist_version_id == f.version_id)
    if f.region:
        conds.append(Visit.location_id.in_(select(Location.id).where(
            Location.client_id == f.client_id, Location.region == f.region)))
    return conds


# --- figures ---------------------------------------------------------------------------------


class Grader:
    """Grade codes and labels from one checklist version's bands (defaults otherwise)."""

    def __init__(self, version: dict | None, language: str):
        self.language = language
        raw = (version or {}).get("grade_bands") or None
        if raw:
            from ...scoring import GradeBand

            self.bands = tuple(GradeBand(min=b["min"], code=b.get("code") or f"band_{i}") for i, b in enumerate(raw))
            self.labels = {(b.get("code") or f"band_{i}"): tr(b.get("label"), language) for i, b in enumerate(raw)}
        else:
            self.bands = DEFAULT_GRADE_BANDS
            self.labels = {}
        self.classes = _band_classes(self.bands)

    def band_list(self) -> list[dict]:
        """The bands, best first, for the methodology: label, lower bound and colour class."""
        out, upper = [], None
        for b in sorted(self.bands, key=lambda b: -b.min):
            if upper is None:
                span = f"≥ {display(b.min)}"
            elif b.min <= 0:
                span = f"< {display(upper)}"
            else:
                span = f"{display(b.min)} – < {display(upper)}"
            out.append({"code": b.code, "grade": b.code, "min": b.min, "range": span, "grade_label": self.label(b.code),
                        "grade_class": self.classes[b.code]})
            upper = b.min
        return out

    def label(self, code: str | None) -> str:
        if code is None:
            return ""
        return self.labels.get(code) or tr(DEFAULT_GRADE_LABELS.get(code), self.language) or code

    def figure(self, score: float | None, n: int = 0, previous: float | None = None) -> dict:
        code = grade(score, self.bands) if score is not None else None
        change = None if score is None or previous is None else score - previous
        return {
            "score": score,
            "display": display(score),
            "grade": code,
            "grade_class": self.classes.get(code, "other"),
            "grade_label": self.label(code),
            "n": int(n or 0),
            "previous": previous,
            "previous_display": display(previous),
            "change": change,
            "change_display": "" if change is None else ("+" if change > 0 else "") + display(change),
        }


GRADE_CLASSES = ("excellent", "good", "needs_improvement", "poor")


def _band_classes(bands) -> dict[str, str]:
    """The colour class of each band: its own code when it is a built-in grade, else by rank (best first)."""
    ranked = sorted(bands, key=lambda b: -b.min)
    out = {}
    for i, b in enumerate(ranked):
        if b.code in GRADE_CLASSES:
            out[b.code] = b.code
        else:
            step = round(i * (len(GRADE_CLASSES) - 1) / (len(ranked) - 1)) if len(ranked) > 1 else 1
            out[b.code] = GRADE_CLASSES[step]
    return out


def _versions(ids) -> dict[int, dict]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    rows = read.execute(
        select(ChecklistVersion.id, ChecklistVersion.number, ChecklistVersion.title, ChecklistVersion.grade_bands,
               ChecklistVersion.critical_scope).where(ChecklistVersion.id.in_(ids))
    ).all()
    return {r.id: {"id": r.id, "number": r.number, "title": r.title, "grade_bands": r.grade_bands,
                   "critical_scope": r.critical_scope} for r in rows}


def dimension_names(language: str) -> dict[str, str]:
    rows = read.execute(select(Dimension.code, Dimension.name).order_by(Dimension.position)).all()
    return {code: tr(name, language) or code for code, name in rows}


def _prompts(question_ids, language: str) -> dict[int, str]:
    if not question_ids:
        return {}
    rows = read.execute(select(Question.id, Question.prompt).where(Question.id.in_(question_ids))).all()
    return {i: tr(p, language) for i, p in rows}


def _photo_dict(p, redact: bool = True, started_at=None, submitted_at=None) -> dict | None:
    """A photo as reports show it: the redacted report size (faces and plates blurred), or None
    while that is not ready; the unblurred report size only for a client that turned blurring off.
    With it, its integrity: whether it was taken in the visit's window, and the SHA-256 of the
    stored original."""
    if redact:
        if p.redaction_state != "done" or not p.redacted_report_key:
            return None
        key = p.redacted_report_key
    else:
        key = p.report_key
    return {"id": p.id, "url": "storage:" + key, "caption": p.caption or "",
            "captured_at": p.captured_at, "width": p.width, "height": p.height, "sha256": p.sha256,
            "window": window_flag(p.captured_at, started_at, submitted_at)}


def _photos_for(pairs) -> dict[tuple[int, int | None], list[dict]]:
    """Photos of (visit, question) pairs, in one query; a photo not blurred yet is left out."""
    visit_ids = {v for v, _ in pairs}
    if not visit_ids:
        return {}
    out: dict = {}
    rows = read.execute(
        select(Photo, Client.redact_photos, Visit.started_at, Visit.submitted_at).join(Visit, Visit.id == Photo.visit_id)
        .join(Client, Client.id == Visit.client_id).where(Photo.visit_id.in_(visit_ids)).order_by(Photo.id))
    for p, redact, started_at, submitted_at in rows:
        photo = _photo_dict(p, redact, started_at, submitted_at)
        if photo is not None:
            out.setdefault((p.visit_id, p.question_id), []).append(photo)
    return out


def period_label(f: Filters) -> str:
    return date_interval(f.start, f.end)


def _locale():
    from flask_babel import get_locale

    return get_locale() or "fi"


def date_interval(start: date, end: date) -> str:
    """A period in the reader's language: ``1.9.–30.11.2026`` in Finnish, ``Sep 1 – Nov 30, 2026`` in English
    (each language's own short form: Finnish writes dates as numbers, English names the month)."""
    from babel.dates import format_interval

    locale = _locale()
    skeleton = "yMd" if str(locale).startswith("fi") else "yMMMd"
    return format_interval(start, end, skeleton, locale=locale)


def month_label(key: str, axis: bool = False, with_year: bool = True) -> str:
    """A "YYYY-MM" month in the reader's language: ``Nov 2026`` / ``marras 2026``. On a chart's axis
    (``axis``) the month's short name, with the year on a second line when ``with_year``."""
    from babel.dates import format_skeleton

    year, month = (int(x) for x in key.split("-")[:2])
    first = date(year, month, 1)
    locale = _locale()
    if not axis:
        return format_skeleton("yMMM", first, locale=locale)
    short = format_skeleton("MMM", first, locale=locale)
    return f"{short}\n{year}" if with_year else short


def client_name(client_id: int) -> str:
    return read.scalar(select(Client.name).where(Client.id == client_id)) or ""


def clients() -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in read.execute(select(Client.id, Client.name).order_by(Client.name))]


def _structure(version_ids, language: str) -> tuple[dict, dict]:
    """Sections and questions of the versions: ({section_id: dict}, {question_id: dict})."""
    if not version_ids:
        return {}, {}
    sections = {
        r.id: {"id": r.id, "key": r.key, "version_id": r.version_id, "title": tr(r.title, language),
               "dimension": r.dimension, "weight": r.weight, "position": r.position}
        for r in read.execute(select(Section).where(Section.version_id.in_(version_ids))).scalars()
    }
    questions = {
        q.id: {"id": q.id, "key": q.key, "section_id": q.section_id, "kind": q.kind, "config": q.config or {},
               "prompt": tr(q.prompt, language), "critical": q.critical, "weight": q.weight,
               "position": q.position, "scored": q.scored, "channels": q.channels or None}
        for q in read.execute(select(Question).where(Question.version_id.in_(version_ids))).scalars()
    }
    return sections, questions
