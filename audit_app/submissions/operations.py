"""Writes for answers, submission and review. Operations flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..checklists.models import Question
from ..core import autocommit
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from ..scoring import Answer as ScoringAnswer
from ..scoring import AnswerError, QuestionSpec, VisitScore, check_answer, missing_required, score_visit
from ..visits.models import BUILTIN_DIMENSION_COLUMNS, CHANNELS, EDITABLE, Visit, VisitDimensionScore
from .models import Answer, AuditEvent


def scoring_answers(visit: Visit) -> dict[str, ScoringAnswer]:
    """The visit's stored answers keyed by question key, as the scoring engine takes them."""
    rows = db.session.execute(
        select(Answer, Question).join(Question, Answer.question_id == Question.id).where(Answer.visit_id == visit.id)
    ).all()
    return {question.key: ScoringAnswer(value=answer.value, na=answer.na) for answer, question in rows}


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
    return result


# --- status machine ------------------------------------------------------------------------------

#: fallback transitions, used until ``audit_app.visits.operations.check_transition`` exists
_TRANSITIONS = {
    "assigned": {"in_progress"},
    "in_progress": {"submitted"},
    "submitted": {"returned", "approved", "rejected"},
    "returned": {"submitted"},
    "approved": set(),
    "rejected": set(),
}


def check_transition(visit: Visit, to: str) -> None:
    """Raise ``NotAllowed`` unless the visit may move to status ``to``."""
    try:
        from ..visits.operations import check_transition as visits_check
    except ImportError:
        visits_check = None
    if visits_check is not None:
        visits_check(visit, to)
        return
    if to not in _TRANSITIONS.get(visit.status, set()):
        raise NotAllowed(_("This visit cannot be moved from its current state to that one."))


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


def _set_status(visit: Visit, to: str, user, comment: str = "", action: str = "status") -> None:
    check_transition(visit, to)
    old = visit.status
    visit.status = to
    record_event(visit, user, action, field="status", old=old, new=to, comment=comment)


def start_visit(visit: Visit, user) -> bool:
    """Record the start of a visit. Returns False when it had already started (harmless)."""
    if visit.status == "assigned":
        lock_visit(visit)
    if visit.status != "assigned":
        if visit.status in EDITABLE:
            return False
        raise NotAllowed(_("This visit has been submitted; answers can no longer be changed."))
    now = utcnow()
    visit.started_at = now
    visit.visited_on = now.date()
    _set_status(visit, "in_progress", user)
    db.session.flush()
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
        },
        "out_of_range": _("The answer must be between %(min)s and %(max)s.", min=spec.scale_min, max=spec.scale_max),
        "unknown_option": _("The answer is not one of the options."),
        "not_finite": _("The answer must be a finite number."),
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
                answered_at: datetime) -> tuple[Answer, bool]:
    """Store the evaluator's answer; returns (answer, stale).

    Last writer wins by the device's ``answered_at``: a write older than the stored one changes
    nothing (stale). Re-sending the same write is harmless. A first answer on an assigned visit
    starts it. Answers changed after the visit was returned are kept in the audit trail.
    """
    _require_editable(visit)
    _check_question_of(visit, question)
    value, na, comment, answered_at, now = _clean_answer(question, value, na, comment, answered_at)
    if visit.status == "assigned":
        start_visit(visit, user)
    if visit.status != "returned" and db.session.get_bind().dialect.name == "postgresql":
        return _upsert_answer(visit, question, user, value=value, na=bool(na), comment=comment,
                              answered_at=answered_at, now=now)
    row = _answer_row(visit, question)
    if row is None:
        fresh = Answer(visit_id=visit.id, question_id=question.id, value=value, na=bool(na), comment=comment,
                       answered_at=answered_at, updated_at=now, updated_by_id=getattr(user, "id", None))
        if _insert_answer(fresh):
            if visit.status == "returned" and _snapshot(None) != _snapshot(fresh):
                _note_change_after_return(visit, question, user, _snapshot(None), _snapshot(fresh))
            db.session.flush()
            return fresh, False
        row = _answer_row(visit, question)  # another request inserted it meanwhile
    if row.answered_at is not None and row.answered_at > answered_at:
        return row, True
    before = _snapshot(row)
    row.value, row.na, row.comment = value, bool(na), comment
    row.answered_at = answered_at
    row.updated_at = now
    row.updated_by_id = getattr(user, "id", None)
    if visit.status == "returned" and before != _snapshot(row):
        _note_change_after_return(visit, question, user, before, _snapshot(row))
    db.session.flush()
    return row, False


_UPSERT_COLUMNS = ("visit_id", "question_id", "value", "na", "comment", "answered_at", "updated_at", "updated_by_id")


def _build_upsert():
    """INSERT ... ON CONFLICT DO UPDATE ... WHERE stored.answered_at <= new.answered_at RETURNING id,
    built once with bound parameters (building it per request cost about a millisecond of Python)."""
    from sqlalchemy import bindparam
    from sqlalchemy.dialects.postgresql import insert

    table = Answer.__table__
    stmt = insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in _UPSERT_COLUMNS})
    return _last_writer_wins(stmt)


def _last_writer_wins(stmt):
    """``stmt`` (an INSERT into answers) as an upsert that replaces the stored answer only when this
    one is not older (``answered_at``), returning the id of the row written (none when stale)."""
    table = Answer.__table__
    return stmt.on_conflict_do_update(
        index_elements=[table.c.visit_id, table.c.question_id],
        set_={name: stmt.excluded[name] for name in _UPSERT_COLUMNS[2:]},
        where=table.c.answered_at <= stmt.excluded.answered_at,
    ).returning(table.c.id)


_UPSERT = _build_upsert()


def _upsert_answer(visit: Visit, question: Question, user, *, value, na: bool, comment: str,
                   answered_at: datetime, now: datetime) -> tuple[Answer, bool]:
    """The autosave's fast path on PostgreSQL (no audit trail to keep): one INSERT ... ON CONFLICT
    that writes only when this answer is not older than the stored one, atomically, so that two
    requests at once cannot both insert or overwrite a later answer with an earlier one."""
    values = dict(visit_id=visit.id, question_id=question.id, value=value, na=na, comment=comment,
                  answered_at=answered_at, updated_at=now, updated_by_id=getattr(user, "id", None))
    row_id = db.session.execute(_UPSERT, values).scalar()
    if row_id is None:  # a later answer is stored: this one is stale
        stored = _answer_row(visit, question)
        return stored, True
    # a plain copy of what was written, for the reply (the session's copy, if any, is refreshed)
    existing = db.session.identity_map.get(db.session.identity_key(Answer, row_id))
    if existing is not None:
        db.session.expire(existing)
    return Answer(id=row_id, **values), False


# --- the autosave's fast path (PostgreSQL) ------------------------------------------------------

#: How many questions the fast path keeps per app (a few hundred bytes each).
FROZEN_QUESTIONS_MAX = 50_000


@dataclass(frozen=True)
class FrozenQuestion:
    """What the fast path needs of a question, read once: its id, version, kind, channels and
    scoring spec (``check_value`` takes it as it takes a ``Question``)."""

    id: int
    version_id: int
    kind: str
    channels: tuple[str, ...]
    spec: QuestionSpec

    def to_spec(self) -> QuestionSpec:
        return self.spec


def _frozen_questions(app=None) -> dict[int, FrozenQuestion]:
    """Questions the fast path has seen, by id, kept with the app. A visit's checklist version is
    always published or retired (``visits.operations``) and those never change
    (``checklists.operations``), so a question read once for a visit stays right while the
    database does (a database restored under a running app needs ``forget_questions``)."""
    return (app or current_app).extensions.setdefault("audit_frozen_questions", {})


def remember_question(question: Question) -> None:
    """Keep a question of a visit's (frozen) checklist version for ``autosave``."""
    questions = _frozen_questions()
    if len(questions) < FROZEN_QUESTIONS_MAX and question.id not in questions:
        questions[question.id] = FrozenQuestion(id=question.id, version_id=question.version_id, kind=question.kind,
                                                channels=tuple(question.channels or CHANNELS),
                                                spec=question.to_spec())


def forget_questions(app=None) -> None:
    _frozen_questions(app).clear()


@cache  # built on first use: it needs the accounts' tables
def _build_autosave():
    """One statement that checks everything the autosave's slow path checks and writes the answer:
    the session's user exists, still has that password, is an active evaluator without a
    temporary password and owns the visit; the visit is in progress, on the question's checklist
    version and on one of its channels. The visit row is share-locked, so a submit (which locks
    it for update) and an answer never interleave: an answer arriving during a submit waits,
    finds the visit submitted and writes nothing. Then the last-writer-wins upsert."""
    from sqlalchemy import any_, bindparam, false, func, literal_column, true
    from sqlalchemy.dialects.postgresql import ARRAY, insert
    from sqlalchemy.types import String

    from ..accounts.models import SESSION_FRAGMENT, User

    visits, users, answers = Visit.__table__, User.__table__, Answer.__table__
    allowed = (
        select(visits.c.id)
        .join(users, users.c.id == visits.c.evaluator_id)
        .where(
            visits.c.id == bindparam("visit_id"),
            visits.c.status == literal_column("'in_progress'"),
            visits.c.checklist_version_id == bindparam("version_id"),
            visits.c.channel == any_(bindparam("channels", type_=ARRAY(String))),
            users.c.id == bindparam("user_id"),
            func.right(users.c.password_hash, literal_column(str(int(SESSION_FRAGMENT)))) == bindparam("fragment"),
            users.c.active.is_(true()),
            users.c.client_id.is_(None),
            users.c.role == literal_column("'evaluator'"),
            users.c.must_change_password.is_(false()),
        )
        .with_for_update(read=True, of=visits)
        .subquery()
    )
    # every column is given (``failed`` too: a new answer has not been scored), so the statement carries
    # no defaults to fill in at execution (it is sent to the driver as compiled, ``core.autocommit``);
    # constants are written into the SQL, so the driver adapts only what changes per answer
    given = {name: bindparam(name, type_=answers.c[name].type) for name in _UPSERT_COLUMNS[1:-1]}
    given["updated_by_id"] = bindparam("user_id", type_=answers.c.updated_by_id.type)  # the session's user
    source = select(allowed.c.id, *given.values(), false())
    return _last_writer_wins(insert(answers).from_select([*_UPSERT_COLUMNS, "failed"], source))


def autosave(app, visit_id: int, question_id: int, identity: tuple[int, str], *, value, na: bool, comment: str,
             answered_at: datetime) -> datetime | None:
    """The autosave's fast path on PostgreSQL: the common answer (a started visit, a question seen
    before, a valid value, the latest write) in one autocommitted statement, with no user or
    visit object loaded and no app context needed (``lane`` calls it before Flask's request
    machinery). Returns the time it was saved, or None when anything is out of the ordinary, for
    the caller to take the full path, which then gives the precise answer (not signed in, not
    found, submitted, invalid, stale, a returned visit's audit trail)."""
    question = _frozen_questions(app).get(question_id)
    if question is None:
        return None
    try:
        value, na, comment, answered_at, now = _clean_answer(question, value, na, comment, answered_at)
    except AnswerRejected:
        return None
    user_id, fragment = identity
    params = dict(visit_id=visit_id, question_id=question.id, value=value, na=na, comment=comment,
                  answered_at=answered_at, updated_at=now, user_id=user_id, fragment=fragment,
                  version_id=question.version_id, channels=list(question.channels))
    written = autocommit.scalar(app, _build_autosave(), params)  # idempotent: last writer wins by answered_at
    return now if written is not None else None


def _insert_answer(row: Answer) -> bool:
    """Insert a new answer row. False when another request inserted the same answer meanwhile
    (two tabs, a re-send racing the first send): the caller then updates that row instead.
    On PostgreSQL the insert runs in a savepoint so that the clash does not spoil the transaction."""
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.add(row)
        db.session.flush()
        return True
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return False
    return True


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


def _photo_counts(visit: Visit) -> dict[int, int]:
    try:
        from ..evidence.queries import photo_counts
    except ImportError:
        photo_counts = None
    if photo_counts is not None:
        return dict(photo_counts(visit.id))
    from sqlalchemy import func

    from ..evidence.models import Photo

    rows = db.session.execute(
        select(Photo.question_id, func.count()).where(Photo.visit_id == visit.id, Photo.question_id.is_not(None))
        .group_by(Photo.question_id)
    ).all()
    return {qid: n for qid, n in rows}


def missing_for_submission(visit: Visit) -> list[tuple[Question, str]]:
    """What blocks submission, in checklist order: (question, "answer" | "photo")."""
    version = visit.checklist_version
    missing_keys = set(missing_required(version.to_spec(), scoring_answers(visit), visit.channel))
    counts = _photo_counts(visit)
    missing = []
    for question in version.questions():
        if not question.applies_to(visit.channel):
            continue
        if question.key in missing_keys:
            missing.append((question, "answer"))
        if question.photo == "required" and counts.get(question.id, 0) < 1:
            missing.append((question, "photo"))
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
    visit.submitted_at = utcnow()
    _set_status(visit, "submitted", user, action="resubmitted" if resubmission else "status")
    db.session.flush()
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
    _set_status(visit, "returned", user, comment=comment, action="returned")
    visit.return_comment = comment
    visit.reviewed_at = utcnow()
    db.session.flush()


def approve_visit(visit: Visit, user) -> None:
    lock_visit(visit)
    _set_status(visit, "approved", user, action="approved")
    now = utcnow()
    visit.approved_at = now
    visit.reviewed_at = now
    db.session.flush()


def reject_visit(visit: Visit, user, reason: str) -> None:
    lock_visit(visit)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise DomainError(_("Give a reason for rejecting the visit."), field="reason")
    if len(reason) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT), field="reason")
    _set_status(visit, "rejected", user, comment=reason, action="rejected")
    visit.reviewed_at = utcnow()
    db.session.flush()
