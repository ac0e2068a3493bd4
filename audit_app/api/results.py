"""A visit's results: scores per section and dimension, the answers shown, and links to its photos.

Clients get only their organisation's released visits (``get_for_client``) and only the photo
versions ``evidence`` serves them (blurred ones, nothing until they are ready, never the original).
"""

from __future__ import annotations

from flask import url_for
from flask_login import current_user
from sqlalchemy import select

from ..checklists.models import Question, Section
from ..core.access import authenticated, get_for_client
from ..core.models import db
from ..evidence import views as evidence_views
from ..evidence.models import Photo
from ..evidence.queries import photos_for_visit
from ..submissions.models import Answer
from ..visits.models import Visit
from .blueprint import blp
from .schemas import ResultsOut


@blp.route("/visits/<int:visit_id>/results", methods=["GET"])
@authenticated
@blp.response(200, ResultsOut)
def visit_results(visit_id: int):
    """Scores, answers and photos of a visit (for a client: a released one)."""
    visit = get_for_client(Visit, visit_id)
    data = visit.score_data or {}
    keys = dict(db.session.execute(select(Question.id, Question.key).where(
        Question.version_id == visit.checklist_version_id)).all())
    section_of = dict(db.session.execute(select(Question.key, Section.key).join(Section, Question.section_id == Section.id)
                                         .where(Question.version_id == visit.checklist_version_id)).all())
    answers = {keys.get(a.question_id): a for a in db.session.scalars(select(Answer).where(Answer.visit_id == visit.id))}
    scored = {q["key"]: q for s in data.get("sections", []) for q in s.get("questions", [])}
    answer_rows = []
    for key, answer in answers.items():
        q = scored.get(key, {})
        if key is None or not q.get("shown", True):
            continue  # an answer kept for a question now hidden is not shown (DESIGN section 4)
        answer_rows.append({
            "question_key": key, "section_key": section_of.get(key, ""), "value": answer.value, "na": answer.na,
            "comment": answer.comment or "", "fraction": q.get("fraction"), "included": bool(q.get("included")),
            "failed": bool(q.get("failed")),
        })
    photos = []
    for photo in photos_for_visit(visit.id):
        if evidence_views.served_key(photo, "report", current_user) is None:
            continue  # not ready for this caller (e.g. still being blurred)
        photos.append({
            "id": photo.id, "question_key": keys.get(photo.question_id), "caption": photo.caption or "",
            "url": url_for("api.photo", photo_id=photo.id, size="report", _external=True),
            "thumb_url": url_for("api.photo", photo_id=photo.id, size="thumb", _external=True),
        })
    return {
        "visit_id": visit.id, "status": visit.status, "overall": visit.score_overall,
        "critical_fail": bool(visit.score_critical_fail), "dimensions": dict(data.get("dimensions") or {}),
        "sections": [{k: s.get(k) for k in ("key", "dimension", "weight", "score", "critical_fail")}
                     for s in data.get("sections", [])],
        "answers": answer_rows, "photos": photos,
    }


@blp.route("/photos/<int:photo_id>/<any(report, thumb, original):size>", methods=["GET"])
@authenticated
@blp.response(200, content_type="image/jpeg", description="The photo, or a redirect to a link that expires")
def photo(photo_id: int, size: str):
    """A photo exactly as the pages serve it to the caller (clients: the blurred versions only)."""
    get_for_client(Photo, photo_id)
    return evidence_views.photo(photo_id=photo_id, size=size)
