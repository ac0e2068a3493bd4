"""Reads for the evaluator's form, the review screen and the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..checklists.models import Dimension, Question, Section, tr
from ..core.access import MAX_ID
from ..core.models import db
from ..scoring import display, grade
from ..visits.models import Visit
from .models import Answer, AuditEvent


@dataclass
class FormSection:
    number: int  # 1-based among the sections shown
    section: Section
    title: str
    questions: list[Question] = field(default_factory=list)


def form_sections(visit: Visit, language: str) -> list[FormSection]:
    """The sections shown on the visit's form: only questions applying to its channel,
    sections without any such question skipped."""
    shown = []
    for section in visit.checklist_version.sections:
        questions = [q for q in section.questions if q.applies_to(visit.channel)]
        if questions:
            shown.append(FormSection(len(shown) + 1, section, tr(section.title, language), questions))
    return shown


def answers_by_question(visit: Visit) -> dict[int, Answer]:
    return {a.question_id: a for a in db.session.scalars(select(Answer).where(Answer.visit_id == visit.id))}


def question_in_visit(visit: Visit, question_id) -> Question | None:
    """The question with this id if it belongs to the visit's checklist version, else None."""
    if isinstance(question_id, bool) or not isinstance(question_id, int) or not 0 < question_id <= MAX_ID:
        return None  # an id out of range would be a database error, not "not found"
    question = db.session.get(Question, question_id)
    if question is None or question.version_id != visit.checklist_version_id:
        return None
    return question


def section_number_of(visit: Visit, question: Question, language: str) -> int:
    for form_section in form_sections(visit, language):
        if any(q.id == question.id for q in form_section.questions):
            return form_section.number
    return 1


def photos_by_question(visit: Visit) -> dict[int | None, list]:
    from ..evidence.models import Photo

    out: dict[int | None, list] = {}
    for photo in db.session.scalars(select(Photo).where(Photo.visit_id == visit.id).order_by(Photo.id)):
        out.setdefault(photo.question_id, []).append(photo)
    return out


def audit_trail(visit: Visit) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.visit_id == visit.id).order_by(AuditEvent.at, AuditEvent.id)
    ))


def review_queue() -> list[Visit]:
    """Submitted visits waiting for review, oldest submission first."""
    return list(db.session.scalars(
        select(Visit).where(Visit.status == "submitted").order_by(Visit.submitted_at, Visit.id)
    ))


def score_summary(visit: Visit, language: str) -> dict | None:
    """The stored score of a visit, ready to display (numbers as text, names translated)."""
    data = visit.score_data
    if not data:
        return None
    version = visit.checklist_version
    titles = {s.key: tr(s.title, language) for s in version.sections}
    dimension_names = {d.code: tr(d.name, language) for d in db.session.scalars(select(Dimension))}
    code = grade(visit.score_overall, version.spec_grade_bands())
    return {
        "overall": display(visit.score_overall),
        "grade": version.grade_label(code, language) if code else "",
        "critical_fail": visit.score_critical_fail,
        "sections": [
            {"title": titles.get(s["key"], s["key"]), "score": display(s.get("score")),
             "critical_fail": s.get("critical_fail", False)}
            for s in data.get("sections", [])
        ],
        "dimensions": [
            {"name": dimension_names.get(d, d), "score": display(v)} for d, v in (data.get("dimensions") or {}).items()
        ],
    }


def duration_minutes(visit: Visit) -> int | None:
    if visit.started_at and visit.submitted_at:
        return max(0, round((visit.submitted_at - visit.started_at).total_seconds() / 60))
    return None
