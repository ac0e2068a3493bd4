"""Reads for the evaluator's form, the review screen and the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_decimal
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from ..checklists.models import Dimension, Question, Section, tr
from ..core.access import MAX_ID, get_for_client_with
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
    if not _an_id(question_id):
        return None
    question = db.session.get(Question, question_id)
    if question is None or question.version_id != visit.checklist_version_id:
        return None
    return question


def locked_visit_and_question(visit_id, question_id) -> tuple[Visit, Question | None]:
    """The current user's visit, locked as ``get_for_client(Visit, visit_id, lock=True)`` locks it
    (404 when it is not theirs to see), and, read in the same statement, the question with this id
    if it belongs to the visit's checklist version (else None)."""
    wanted = question_id if _an_id(question_id) else 0  # 0 matches no question
    return get_for_client_with(
        Visit, visit_id, Question,
        and_(Question.id == wanted, Question.version_id == Visit.checklist_version_id), lock=True,
    )


def _an_id(value) -> bool:
    """An integer that can be a primary key (one out of range would be a database error, not "not found")."""
    return not isinstance(value, bool) and isinstance(value, int) and 0 < value <= MAX_ID


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


def receipt(visit: Visit) -> dict:
    """What went in with a submitted visit: its answers (given or N/A) and photos."""
    from ..evidence.models import Photo

    rows = db.session.execute(select(Answer.value, Answer.na).where(Answer.visit_id == visit.id)).all()
    answers = sum(1 for value, na in rows if na or value not in (None, "", []))
    photos = db.session.scalar(select(db.func.count()).select_from(Photo).where(Photo.visit_id == visit.id)) or 0
    return {"answer_count": answers, "photo_count": photos}


def audit_trail(visit: Visit) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.visit_id == visit.id).order_by(AuditEvent.at, AuditEvent.id)
    ))


QUEUE_PAGE_SIZE = 50


def review_queue(page: int = 1, per_page: int = QUEUE_PAGE_SIZE):
    """One page of the submitted visits waiting for review, oldest submission first, with the
    client and location each row shows loaded with it: a fixed number of statements however
    many visits wait (the count, the page, its clients, its locations)."""
    stmt = (
        select(Visit).where(Visit.status == "submitted")
        .options(selectinload(Visit.client), selectinload(Visit.location))
        .order_by(Visit.submitted_at, Visit.id)
    )
    return db.paginate(stmt, page=max(1, min(page, 100_000)), per_page=per_page, error_out=False,
                       max_per_page=200)


def _number(value: float) -> str:
    """Points as people write them: 2, 1.5, 0.25 (in the user's locale: 1,5)."""
    return format_decimal(round(value, 2), "#,##0.##")


def points(visit: Visit) -> tuple[dict[int, dict], dict[str, dict]]:
    """Points from the stored score: per answer the fraction × the question's weight out of its
    weight (``{"points": "2", "of": "3"}`` by question id), and per section the sum over its
    included answers out of their weights (by section key). Answers not included (N/A, hidden,
    unanswered, unscored) have no points."""
    data = visit.score_data or {}
    questions = {q.key: q for q in db.session.scalars(
        select(Question).where(Question.version_id == visit.checklist_version_id))}
    by_question: dict[int, dict] = {}
    by_section: dict[str, dict] = {}
    for section in data.get("sections", []):
        got = total = 0.0
        for q in section.get("questions", []):
            question = questions.get(q.get("key"))
            if question is None or not q.get("included") or q.get("fraction") is None:
                continue
            weight = float(question.weight)
            earned = float(q["fraction"]) * weight
            got, total = got + earned, total + weight
            by_question[question.id] = {"points": _number(earned), "of": _number(weight)}
        if total:
            by_section[section.get("key")] = {"points": _number(got), "of": _number(total)}
    return by_question, by_section


def score_summary(visit: Visit, language: str) -> dict | None:
    """The stored score of a visit, ready to display (numbers as text, names translated)."""
    data = visit.score_data
    if not data:
        return None
    version = visit.checklist_version
    titles = {s.key: tr(s.title, language) for s in version.sections}
    dimension_names = {d.code: tr(d.name, language) for d in db.session.scalars(select(Dimension))}
    code = grade(visit.score_overall, version.spec_grade_bands())
    sections = [s for s in data.get("sections", []) if s.get("score") is not None]
    dimensions = data.get("dimensions") or {}
    # one section per dimension and each dimension's score its section's: the two tables say the same
    same = (len({s.get("dimension") for s in sections}) == len(sections) == len(dimensions)
            and all(dimensions.get(s.get("dimension")) == s.get("score") for s in sections))
    return {
        "same": same,
        "overall": display(visit.score_overall),
        "grade": version.grade_label(code, language) if code else "",
        "critical_fail": visit.score_critical_fail,
        "sections": [
            {"title": titles.get(s["key"], s["key"]), "score": display(s.get("score")),
             "critical_fail": s.get("critical_fail", False),
             "dimension": dimension_names.get(s.get("dimension"), s.get("dimension") or "")}
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
