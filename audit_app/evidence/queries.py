"""Reads of evidence photos."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..checklists.models import Question, Section
from ..core.models import db
from .models import Photo


def photos_for_visit(visit_id: int) -> list[Photo]:
    """A visit's photos in upload order."""
    return list(db.session.scalars(select(Photo).where(Photo.visit_id == visit_id).order_by(Photo.id)))


def photos_by_question(visit_id: int) -> dict[int | None, list[Photo]]:
    """A visit's photos keyed by question id (None: photos of the visit as a whole)."""
    groups: dict[int | None, list[Photo]] = defaultdict(list)
    for photo in photos_for_visit(visit_id):
        groups[photo.question_id].append(photo)
    return dict(groups)


def photo_counts(visit_id: int) -> dict[int | None, int]:
    rows = db.session.execute(
        select(Photo.question_id, func.count(Photo.id)).where(Photo.visit_id == visit_id).group_by(Photo.question_id)
    )
    return {question_id: count for question_id, count in rows}


def photo_for_upload(visit_id: int, client_uid: str) -> Photo | None:
    """The photo an earlier try of the same upload made, if any."""
    return db.session.scalar(select(Photo).where(Photo.visit_id == visit_id, Photo.client_uid == client_uid))


def question_of_version(question_id: int, version_id: int) -> Question | None:
    return db.session.scalar(select(Question).where(Question.id == question_id, Question.version_id == version_id))


def referenced_keys(prefix: str = "visits/") -> set[str]:
    """Every stored key a photo row refers to."""
    keys: set[str] = set()
    for row in db.session.execute(select(Photo.storage_key, Photo.report_key, Photo.thumb_key,
                                         Photo.redacted_report_key, Photo.redacted_thumb_key)):
        keys.update(k for k in row if k and k.startswith(prefix))
    return keys


def unredacted_count(visit_id: int) -> int:
    """Photos of the visit whose redacted versions are not ready (pending or failed)."""
    return db.session.scalar(select(func.count(Photo.id)).where(
        Photo.visit_id == visit_id, Photo.redaction_state != "done")) or 0


def unredacted_ids(visit_id: int) -> list[int]:
    """Ids of the visit's photos whose redacted versions are not ready, in upload order."""
    return list(db.session.scalars(select(Photo.id).where(
        Photo.visit_id == visit_id, Photo.redaction_state != "done").order_by(Photo.id)))


def redaction_backlog() -> list[int]:
    """Ids of every photo not redacted yet (pending or failed), oldest first."""
    return list(db.session.scalars(select(Photo.id).where(Photo.redaction_state != "done").order_by(Photo.id)))


@dataclass
class PhotoGroup:
    """Photos of one question (``question`` None: the visit as a whole), for display."""

    question: Question | None
    section: Section | None
    photos: list[Photo] = field(default_factory=list)


def photo_groups(visit_id: int) -> list[PhotoGroup]:
    """A visit's photos grouped by question in checklist order; the visit's own photos first."""
    by_question = photos_by_question(visit_id)
    if not by_question:
        return []
    question_ids = [qid for qid in by_question if qid is not None]
    questions = {
        q.id: q
        for q in db.session.scalars(select(Question).where(Question.id.in_(question_ids)))
    } if question_ids else {}
    groups: list[PhotoGroup] = []
    if None in by_question:
        groups.append(PhotoGroup(None, None, by_question[None]))
    ordered = sorted(questions.values(), key=lambda q: (q.section.position, q.position, q.id))
    for question in ordered:
        groups.append(PhotoGroup(question, question.section, by_question[question.id]))
    return groups
