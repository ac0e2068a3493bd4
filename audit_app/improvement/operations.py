"""Writes of improvement. Operations flush; the request (or the caller) commits."""

from __future__ import annotations

import uuid
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..checklists.models import ChecklistVersion, Dimension, Question
from ..core.errors import DomainError, NotAllowed
from ..core.models import db, utcnow
from ..evidence.operations import delete_objects
from ..evidence.processing import process_photo
from ..scoring import Answer as ScoringAnswer
from ..scoring import missing_required, score_visit
from ..submissions.models import Answer
from ..submissions.operations import MAX_COMMENT, check_value
from ..visits.models import CHANNELS, Location, Visit
from ..visits.signals import status_changed
from .models import (
    MANUAL_MOVES,
    OVERALL,
    ActionEvent,
    ActionPhoto,
    CorrectiveAction,
    SelfAnswer,
    SelfAssessment,
    Target,
)

# --- targets --------------------------------------------------------------------------------------


def set_target(client_id: int, user, *, dimension: str, channel: str | None, value: float,
               applies_from: date) -> Target:
    """A target for a scope from a date; a target of the same scope and date is replaced."""
    if not 0 <= value <= 100:
        raise DomainError(_("A target is a number from 0 to 100."), field="value")
    if channel is not None and channel not in CHANNELS:
        raise DomainError(_("Choose a channel from the list."), field="channel")
    if dimension != OVERALL and db.session.scalar(select(Dimension.code).where(Dimension.code == dimension)) is None:
        raise DomainError(_("Choose a score from the list."), field="dimension")
    query = select(Target).where(Target.client_id == client_id, Target.dimension == dimension,
                                 Target.applies_from == applies_from)
    query = query.where(Target.channel.is_(None) if channel is None else Target.channel == channel)
    target = db.session.scalar(query)
    if target is None:
        target = Target(client_id=client_id, dimension=dimension, channel=channel, applies_from=applies_from,
                        value=value)
        db.session.add(target)
    target.value = value
    target.created_by_id = getattr(user, "id", None)
    db.session.flush()
    return target


def delete_target(target: Target) -> None:
    db.session.delete(target)
    db.session.flush()


# --- self-assessments -----------------------------------------------------------------------------


def start_self_assessment(client_id: int, user, *, version: ChecklistVersion, channel: str,
                          location: Location | None) -> SelfAssessment:
    if version.status != "published":
        raise DomainError(_("Choose a published checklist."), field="version_id")
    if channel not in CHANNELS:
        raise DomainError(_("Choose a channel from the list."), field="channel")
    if location is not None and location.client_id != client_id:
        raise DomainError(_("Choose a location from the list."), field="location_id")
    sa = SelfAssessment(client_id=client_id, channel=channel, location_id=location.id if location else None,
                        checklist_version_id=version.id, status="draft", created_by_id=user.id)
    db.session.add(sa)
    db.session.flush()
    return sa


def _require_draft(sa: SelfAssessment) -> None:
    if sa.status != "draft":
        raise NotAllowed(_("This self-assessment has been submitted; its answers can no longer be changed."))


def save_self_answers(sa: SelfAssessment, given: dict[int, tuple[object, bool, str]]) -> dict[int, str]:
    """Store the answers given ({question id: (value, na, comment)}); returns {question id: error}
    for answers the question refuses (those are not stored, the others are)."""
    _require_draft(sa)
    questions = {q.id: q for q in sa.checklist_version.questions()}
    stored = {a.question_id: a for a in sa.answers}
    errors = {}
    for qid, (value, na, comment) in given.items():
        question = questions.get(qid)
        if question is None:
            continue
        comment = (comment or "").replace("\x00", "")
        if isinstance(value, str):
            value = value.replace("\x00", "")
        try:
            if value is not None or na:
                check_value(question, value, na)
            if len(comment) > MAX_COMMENT:
                raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT))
        except DomainError as exc:
            errors[qid] = exc.message
            continue
        row = stored.get(qid)
        if row is None:
            if value is None and not na and not comment:
                continue
            row = SelfAnswer(question_id=qid)
            sa.answers.append(row)
        row.value, row.na, row.comment = (None if na else value), bool(na), comment
    db.session.flush()
    return errors


def _scoring_answers(sa: SelfAssessment) -> dict[str, ScoringAnswer]:
    return {a.question.key: ScoringAnswer(value=a.value, na=a.na, comment=a.comment or "") for a in sa.answers}


def missing_self_answers(sa: SelfAssessment) -> list[Question]:
    keys = set(missing_required(sa.checklist_version.to_spec(), _scoring_answers(sa), sa.channel))
    return [q for q in sa.checklist_version.questions() if q.key in keys]


def submit_self_assessment(sa: SelfAssessment) -> list[Question]:
    """Score with the engine and submit; returns the required questions left unanswered (then
    nothing is submitted). Photo and comment follow-ups are not asked of a self-assessment."""
    _require_draft(sa)
    missing = missing_self_answers(sa)
    if missing:
        return missing
    result = score_visit(sa.checklist_version.to_spec(), _scoring_answers(sa), sa.channel)
    sa.score_overall = result.overall
    sa.score_data = result.as_dict()
    sa.dimension_scores = dict(result.dimensions)
    by_key = {q.key: q for s in result.sections for q in s.questions}
    for answer in sa.answers:
        q = by_key.get(answer.question.key)
        answer.fraction = q.fraction if q is not None and q.included else None
        answer.failed = bool(q is not None and q.failed)
    sa.status = "submitted"
    sa.submitted_at = utcnow()
    sa.assessed_on = date.today()
    db.session.flush()
    return []


def delete_self_assessment(sa: SelfAssessment) -> None:
    _require_draft(sa)
    db.session.delete(sa)
    db.session.flush()


# --- corrective actions ---------------------------------------------------------------------------


def _event(action: CorrectiveAction, kind: str, *, user=None, visit=None, old=None, new=None,
           comment: str = "") -> ActionEvent:
    event = ActionEvent(kind=kind, user_id=getattr(user, "id", None), visit_id=getattr(visit, "id", None),
                        old_status=old, new_status=new, comment=comment)
    action.events.append(event)
    return event


def create_action(client_id: int, user, *, question: Question, what: str, owner, due_on: date,
                  visit: Visit | None = None, location: Location | None = None) -> CorrectiveAction:
    """An action on a visit's failed question (``visit``) or on a location and question."""
    what = (what or "").replace("\x00", "").strip()
    if not what:
        raise DomainError(_("Say what will be done."), field="what")
    if owner is None or owner.client_id != client_id or not owner.active:
        raise DomainError(_("Choose an owner from the list."), field="owner_id")
    if visit is not None:
        if visit.client_id != client_id:
            raise DomainError(_("This visit is not part of this client's results."))
        channel, location_id = visit.channel, visit.location_id
    elif location is not None:
        if location.client_id != client_id:
            raise DomainError(_("Choose a location from the list."), field="location_id")
        channel, location_id = None, location.id
    else:
        raise DomainError(_("An action belongs to a failed item or to a location."))
    action = CorrectiveAction(
        client_id=client_id, location_id=location_id, channel=channel, visit_id=getattr(visit, "id", None),
        checklist_id=question.version.checklist_id, question_id=question.id, question_key=question.key,
        what=what, owner_id=owner.id, due_on=due_on, status="open", created_by_id=user.id,
    )
    db.session.add(action)
    _event(action, "created", user=user, new="open")
    db.session.flush()
    return action


def move_action(action: CorrectiveAction, user, new: str, comment: str = "") -> None:
    """A manager's status change: open ⇄ in progress → done; a done action may go back to in progress.
    Only a later approved visit verifies (or reopens) a done action."""
    if new not in MANUAL_MOVES.get(action.status, ()):
        raise NotAllowed(_("This status change is not possible."))
    old = action.status
    action.status = new
    action.done_at = utcnow() if new == "done" else None
    _event(action, "status", user=user, old=old, new=new, comment=(comment or "").strip())
    db.session.flush()


def comment_action(action: CorrectiveAction, user, text: str) -> ActionEvent:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise DomainError(_("Write a comment."), field="text")
    if len(text) > MAX_COMMENT:
        raise DomainError(_("The comment is too long (at most %(max)d characters).", max=MAX_COMMENT), field="text")
    event = _event(action, "comment", user=user, comment=text)
    db.session.flush()
    return event


def add_action_photo(action: CorrectiveAction, user, *, data: bytes, caption: str, storage, max_bytes: int,
                     max_pixels: int) -> ActionPhoto:
    """Store a photo of the fix through the evidence pipeline; the objects are removed again if the row
    is not flushed (the caller removes them if the transaction rolls back)."""
    caption = (caption or "").replace("\x00", "").strip()
    if len(caption) > 500:
        raise DomainError(_("The caption is too long (at most %(max)d characters).", max=500), field="caption")
    processed = process_photo(data, max_bytes=max_bytes, max_pixels=max_pixels)
    base = f"actions/{action.id}/{uuid.uuid4().hex}/"
    versions = {"original": processed.original, "report": processed.report, "thumb": processed.thumb}
    keys = {name: f"{base}{name}.{v.extension}" for name, v in versions.items()}
    written = []
    try:
        for name, version in versions.items():
            storage.put(keys[name], version.data, version.content_type)
            written.append(keys[name])
        photo = ActionPhoto(caption=caption, storage_key=keys["original"], report_key=keys["report"],
                            thumb_key=keys["thumb"], content_type=processed.original.content_type,
                            sha256=processed.sha256, captured_at=processed.captured_at,
                            uploaded_by_id=getattr(user, "id", None))
        action.photos.append(photo)
        _event(action, "photo", user=user, comment=caption)
        db.session.flush()
    except BaseException:
        delete_objects(storage, written)
        raise
    return photo


def verify_by_visit(visit: Visit) -> list[CorrectiveAction]:
    """A newly approved visit verifies each done action it answers without failing, and reopens each
    it fails again: same client, same location (or, for an action without a location, the same
    channel), same checklist and question key, visited on or after the day the action was done."""
    if visit.calibration or visit.visited_on is None:
        return []
    checklist_id = db.session.scalar(select(ChecklistVersion.checklist_id)
                                     .where(ChecklistVersion.id == visit.checklist_version_id))
    answers = {key: (fraction, failed) for key, fraction, failed in db.session.execute(
        select(Question.key, Answer.fraction, Answer.failed).join(Question, Question.id == Answer.question_id)
        .where(Answer.visit_id == visit.id)
    ).all()}
    if not answers:
        return []
    candidates = db.session.scalars(select(CorrectiveAction).where(
        CorrectiveAction.client_id == visit.client_id, CorrectiveAction.status == "done",
        CorrectiveAction.checklist_id == checklist_id, CorrectiveAction.question_key.in_(answers),
    )).all()
    changed = []
    for action in candidates:
        if action.location_id is not None:
            if action.location_id != visit.location_id:
                continue
        elif action.channel != visit.channel:
            continue
        if action.visit_id == visit.id or action.done_at is None or visit.visited_on < action.done_at.date():
            continue
        fraction, failed = answers[action.question_key]
        if fraction is None:  # not asked, hidden or N/A: proves nothing
            continue
        new = "reopened" if failed else "verified"
        _event(action, "status", visit=visit, old=action.status, new=new)
        action.status = new
        action.decided_by_visit_id = visit.id
        if new == "reopened":
            action.done_at = None
        changed.append(action)
    db.session.flush()
    return changed


def _on_status_changed(visit, new=None, **_ignored) -> None:
    if new == "approved":
        verify_by_visit(visit)


status_changed.connect(_on_status_changed, weak=False)

__all__ = ["OVERALL"]
