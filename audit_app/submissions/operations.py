"""Writes for answers, submission and review. Operations flush; the caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import select

from ..checklists.models import Question
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from ..evidence.queries import photo_counts, unredacted_count
from ..evidence.signals import regions_changed
from ..scoring import Answer as ScoringAnswer
from ..scoring import (
    AnswerError,
    VisitScore,
    check_answer,
    missing_follow_ups,
    missing_required,
    score_visit,
    visibility,
)
from ..visits.models import BUILTIN_DIMENSION_COLUMNS, EDITABLE, Visit, VisitDimensionScore
from ..visits.operations import transition
from ..visits.signals import scores_stored, status_changed
from .models import Answer, AuditEvent


def scoring_answers(visit: Visit) -> dict[str, ScoringAnswer]:
    """The visit's stored answers keyed by question key, as the scoring engine takes them."""
    rows = db.session.execute(
        select(Answer, Question).join(Question, Answer.question_id == Question.id).where(Answer.visit_id == visit.id)
    ).all()
    return {question.key: ScoringAnswer(value=answer.value, na=answer.na, comment=answer.comment or "")
            for answer, question in rows}


def compute_and_store_scores(visit: Visit) -> VisitScore:
    """Score the visit with the engine and store the result with the visit.

    Stored: the overall score, the critical flag, the whole breakdown (``score_data``), one
    row per dimension for SQL aggregates, and each answer's fraction and failed flag.
    """
    version = visit.checklist_version
    result = score_visit(version.to_spec(), scoring_answers(visit), visit.channel)
    visit.score_overall = result.overall
    visit.score_critical_fail = result.critical_fail
    visit.score_data = result.as_dict()
    visit.scored_at = utcnow()
    visit.dimension_scores = [VisitDimensionScore(dimension=d, score=s) for d, s in result.dimensions.items()]
    for dimension, column in BUILTIN_DIMENSION_COLUMNS.items():
        setattr(visit, column.key, result.dimensions.get(dimension))
    by_key = {q.key: q for s in result.sections for q in s.questions}
    for answer in db.session.scalars(select(Answer).where(Answer.visit_id == visit.id)):
        q = by_key.get(answer.question.key)
        answer.fraction = q.fraction if q is not None and q.included else None
        answer.failed = bool(q is not None and q.failed)
    db.session.flush()
    scores_stored.send(visit)
    return result


# --- status changes ------------------------------------------------------------------------------


def record_event(visit: Visit, user, action: str, *, field: str | None = None, old=None, new=None,
                 comment: str = "") -> AuditEvent:
    event = AuditEvent(
        visit_id=visit.id, user_id=getattr(user, "id", None), at=utcnow(), action=action, field=field,
        old_value=old, new_value=new, comment=comment or "",
    )
    db.session.add(event)
    db.session.flush()
    return event


def lock_visit(visit: Visit) -> Visit:
    """Lock the visit's row for this transaction and reload it (PostgreSQL; a no-op on SQLite).

    Status changes start with it, so two at once (a double-clicked submit, two reviewers) run one
    after the other and the second sees the first's result instead of repeating it.
    """
    return db.session.execute(
        select(Visit).where(Visit.id == visit.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()  # reading the row is what refreshes ``visit``


@status_changed.connect
def _status_in_trail(visit: Visit, *, old: str, new: str, user, action: str, comment: str, at: datetime) -> None:
    """Every status change enters the visit's audit trail (the status machine sends it)."""
    record_event(visit, user, action, field="status", old=old, new=new, comment=comment).at = at


def start_visit(visit: Visit, user) -> bool:
    """Record the start of a visit. Returns False when it had already started (harmless)."""
    if visit.status == "assigned":
        lock_visit(visit)
    if visit.status != "assigned":
        if visit.status in EDITABLE:
            return False
        raise NotAllowed(_("This visit has been submitted; answers can no longer be changed."))
    transition(visit, "in_progress", user=user)
    return True


# --- answers -------------------------------------------------------------------------------------

MAX_COMMENT = 5000
MAX_TEXT = 5000
MAX_NUMBER = 1e9
#: a device clock ahead of the server by more than this is clamped to the server's time
FUTURE_SLACK = timedelta(minutes=5)


class AnswerRejected(DomainError):
    """An answer that does not fit its question (400)."""


def answer_error_message(code: str, spec) -> str:
    messages = {
        "na_not_allowed": _("This question cannot be answered N/A."),
        "wrong_type": {
            "yes_no": _("The answer must be yes or no."),
            "scale": _("The answer must be a whole number."),
            "choice": _("The answer must be one of the options."),
            "number": _("The answer must be a number."),
            "text": _("The answer must be text."),
            "multi": _("The answer must be a list of the options."),
        },
        "out_of_range": _("The answer must be between %(min)s and %(max)s.", min=spec.scale_min, max=spec.scale_max),
        "unknown_option": _("The answer is not one of the options."),
        "not_finite": _("The answer must be a finite number."),
        "empty_selection": _("Choose at least one option, or clear the answer."),
        "repeated_option": _("The same option was chosen twice."),
        "not_a_date": _("The answer must be a date, for example 2025-03-14."),
        "not_a_time": _("The answer must be a time of day, for example 14:30."),
    }
    message = messages.get(code, _("The answer does not fit the question."))
    if isinstance(message, dict):
        message = message.get(spec.kind, _("The answer does not fit the question."))
    return message


def validate_answer(visit: Visit, question: Question | None, value, na: bool) -> None:
    """Raise ``AnswerRejected`` unless (value, na) is a fitting answer to ``question`` on ``visit``."""
    _check_question_of(visit, question)
    check_value(question, value, na)


def _check_question_of(visit: Visit, question: Question | None) -> None:
    if (
        question is None
        or question.version_id != visit.checklist_version_id
        or not question.applies_to(visit.channel)
    ):
        raise AnswerRejected(_("This question is not part of this visit's checklist."), field="question_id")


def check_value(question: Question, value, na: bool) -> None:
    """Raise ``AnswerRejected`` unless (value, na) fits ``question``'s kind and settings."""
    if question.kind == "photo":
        if value is not None:
            raise AnswerRejected(_("A photo question is answered with photos."), field="value")
        return
    spec = question.to_spec()
    try:
        check_answer(spec, ScoringAnswer(value=value, na=na))
    except AnswerError as exc:
        raise AnswerRejected(answer_error_message(exc.code, spec), field="value") from exc
    if question.kind == "number" and value is not None and not na and abs(value) > MAX_NUMBER:
        raise AnswerRejected(_("The number is too large."), field="value")
    if question.kind == "text" and isinstance(value, str) and len(value) > MAX_TEXT:
        raise AnswerRejected(_("The answer is too long (at most %(max)d characters).", max=MAX_TEXT), field="value")


def _require_editable(visit: Visit) -> None:
    if not visit.editable:
        raise NotAllowed(_("This visit has been submitted; answers can no longer be changed."))


def _answer_row(visit: Visit, question: Question) -> Answer | None:
    return db.session.scalar(select(Answer).where(Answer.visit_id == visit.id, Answer.question_id == question.id))


def _snapshot(answer: Answer | None) -> dict:
    if answer is None:
        return {"value": None, "na": False}
    return {"value": answer.value, "na": bool(answer.na)}


def _clean_answer(question: Question, value, na: bool, comment: str, answered_at: datetime):
    """The answer checked against ``question`` and as it is stored: NUL characters dropped (no
    database text column takes them; they are never meant, and a refusal would be an answer the
    phone retries forever), N/A without a value, a device clock far ahead clamped to the server's.
    Returns (value, na, comment, answered_at, now); raises ``AnswerRejected``."""
    comment = comment.replace("\x00", "")
    if isinstance(value, str):
        value = value.replace("\x00", "")
    check_value(question, value, na)
    if len(comment) > MAX_COMMENT:
        raise AnswerRejected(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT),
                             field="comment")
    if na:
        value = None
    now = utcnow()
    if answered_at > now + FUTURE_SLACK:
        answered_at = now
    return value, bool(na), comment, answered_at, now


def save_answer(visit: Visit, question: Question | None, user, *, value, na: bool, comment: str,
                answered_at: datetime) -> tuple[datetime, bool]:
    """Store the evaluator's answer; returns (when it was saved, stale).

    One statement writes it: an upsert in which the last writer wins by the device's
    ``answered_at``, atomically, so that two requests at once cannot both insert, nor overwrite a
    later answer with an earlier one. A write older than the stored one changes nothing (stale);
    re-sending the same write is harmless. A first answer on an assigned visit starts it. Answers
    changed after the visit was returned are kept in the audit trail. The caller holds the visit
    locked (``get_for_client(..., lock=True)``), so answers of one visit and its submit never interleave.
    """
    _require_editable(visit)
    _check_question_of(visit, question)
    value, na, comment, answered_at, now = _clean_answer(question, value, na, comment, answered_at)
    if visit.status == "assigned":
        start_visit(visit, user)
    before = _snapshot(_answer_row(visit, question)) if visit.status == "returned" else None
    values = dict(visit_id=visit.id, question_id=question.id, value=value, na=na, comment=comment,
                  answered_at=answered_at, updated_at=now, updated_by_id=getattr(user, "id", None))
    written = db.session.execute(_upsert(db.session.get_bind().dialect.name), values).scalar()
    if written is None:  # a later answer is stored: this one is stale
        return _answer_row(visit, question).updated_at, True
    stored = db.session.identity_map.get(db.session.identity_key(Answer, written))
    if stored is not None:
        db.session.expire(stored)  # the session's copy, if any, is out of date
    after = {"value": value, "na": na}
    if before is not None and before != after:
        _note_change_after_return(visit, question, user, before, after)
    return now, False


_UPSERT_COLUMNS = ("visit_id", "question_id", "value", "na", "comment", "answered_at", "updated_at", "updated_by_id")


@cache
def _upsert(dialect: str):
    """INSERT ... ON CONFLICT DO UPDATE ... WHERE stored.answered_at <= new.answered_at RETURNING id
    (PostgreSQL and SQLite say it alike), built once with bound parameters: it returns no row when
    the stored answer is newer."""
    from sqlalchemy import bindparam

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    table = Answer.__table__
    stmt = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in _UPSERT_COLUMNS})
    return stmt.on_conflict_do_update(
        index_elements=[table.c.visit_id, table.c.question_id],
        set_={name: stmt.excluded[name] for name in _UPSERT_COLUMNS[2:]},
        where=table.c.answered_at <= stmt.excluded.answered_at,
    ).returning(table.c.id)


def _note_change_after_return(visit: Visit, question: Question, user, before: dict, after: dict) -> None:
    """One trail entry per question and return round: old (at return) → latest new value."""
    last_return = db.session.scalar(
        select(AuditEvent.at).where(AuditEvent.visit_id == visit.id, AuditEvent.field == "status",
                                    AuditEvent.action == "returned")
        .order_by(AuditEvent.at.desc()).limit(1)
    )
    query = select(AuditEvent).where(
        AuditEvent.visit_id == visit.id, AuditEvent.action == "answer_changed", AuditEvent.field == question.key
    )
    if last_return is not None:
        query = query.where(AuditEvent.at >= last_return)
    event = db.session.scalar(query.order_by(AuditEvent.at.desc()).limit(1))
    if event is None:
        record_event(visit, user, "answer_changed", field=question.key, old=before, new=after)
    else:
        event.new_value = after
        event.at = utcnow()


# --- submission ----------------------------------------------------------------------------------


def missing_for_submission(visit: Visit) -> list[tuple[Question, str]]:
    """What blocks submission, in checklist order: (question, "answer" | "photo" | "comment" |
    "failure_photo"). The engine decides what is shown (channel and conditions): hidden questions
    never block, whatever answers they keep. A failed answer whose question asks for more on
    failure needs its comment ("comment") and/or a photo ("failure_photo")."""
    version = visit.checklist_version
    spec, answers = version.to_spec(), scoring_answers(visit)
    shown = visibility(spec, answers, visit.channel)
    missing_keys = set(missing_required(spec, answers, visit.channel))
    counts = dict(photo_counts(visit.id))
    questions = version.questions()
    by_id_counts = {q.key: counts.get(q.id, 0) for q in questions}
    follow_ups = set(missing_follow_ups(spec, answers, visit.channel, by_id_counts))
    missing = []
    for question in questions:
        if not shown.question_shown(question.key):
            continue
        if question.key in missing_keys:
            missing.append((question, "answer"))
        if (question.key, "comment") in follow_ups:
            missing.append((question, "comment"))
        if question.photo == "required" and counts.get(question.id, 0) < 1:
            missing.append((question, "photo"))
        elif (question.key, "photo") in follow_ups:
            missing.append((question, "failure_photo"))
    return missing


class AlreadySubmitted(NotAllowed):
    pass


def submit_visit(visit: Visit, user) -> list[tuple[Question, str]]:
    """Submit the visit and store its scores; returns what is missing (then nothing changes)."""
    lock_visit(visit)
    if visit.status in ("submitted", "approved", "rejected"):
        raise AlreadySubmitted(_("This visit has already been submitted."))
    if visit.status == "assigned":
        start_visit(visit, user)
    missing = missing_for_submission(visit)
    if missing:
        return missing
    resubmission = visit.status == "returned"
    compute_and_store_scores(visit)
    transition(visit, "submitted", user=user, action="resubmitted" if resubmission else "status")
    return []


# --- review --------------------------------------------------------------------------------------


def correct_answer(visit: Visit, question: Question | None, user, *, value, na: bool, reason: str) -> Answer:
    """A reviewer's correction of a submitted visit: audited, scores recomputed."""
    lock_visit(visit)
    if visit.status != "submitted":
        if visit.status == "approved":
            raise NotAllowed(_("This visit has been approved; its scores are frozen."))
        raise NotAllowed(_("Only a submitted visit can be corrected."))
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise DomainError(_("Give a reason for the correction."), field="reason")
    if len(reason) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT), field="reason")
    validate_answer(visit, question, value, na)
    if na:
        value = None
    row = _answer_row(visit, question)
    before = _snapshot(row)
    if row is None:
        row = Answer(visit_id=visit.id, question_id=question.id, comment="")
        db.session.add(row)
    row.value, row.na = value, bool(na)
    row.updated_at = utcnow()
    row.updated_by_id = getattr(user, "id", None)
    db.session.flush()
    record_event(visit, user, "correction", field=question.key, old=before, new=_snapshot(row), comment=reason)
    compute_and_store_scores(visit)
    return row


def return_visit(visit: Visit, user, comment: str) -> None:
    lock_visit(visit)
    comment = (comment or "").replace("\x00", "").strip()
    if not comment:
        raise DomainError(_("Write a comment for the evaluator."), field="comment")
    if len(comment) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT), field="comment")
    transition(visit, "returned", user=user, comment=comment, action="returned")
    visit.return_comment = comment
    db.session.flush()


def approve_visit(visit: Visit, user) -> None:
    lock_visit(visit)
    if visit.client.redact_photos and unredacted_count(visit.id):
        raise NotAllowed(_("Faces and licence plates are still being blurred in %(n)d photo(s) of this visit. "
                           "The visit can be approved once every photo is blurred.", n=unredacted_count(visit.id)))
    transition(visit, "approved", user=user, action="approved")


def reject_visit(visit: Visit, user, reason: str) -> None:
    lock_visit(visit)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise DomainError(_("Give a reason for rejecting the visit."), field="reason")
    if len(reason) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT), field="reason")
    transition(visit, "rejected", user=user, comment=reason, action="rejected")


@regions_changed.connect
def _record_regions_change(photo, user=None, added=(), removed=(), **_ignored) -> None:
    """An admin's change of a photo's blurred areas, in the visit's audit trail."""
    def boxes(regions):  # what the trail shows in the reader's language (``regions_text``)
        return [{k: r[k] for k in ("kind", "x", "y", "w", "h")} for r in regions] or None

    record_event(photo.visit, user, "redaction", field=f"photo:{photo.id}", old=boxes(removed), new=boxes(added))
