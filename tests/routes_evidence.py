"""Routes of the evidence package for the access-map walk (tests/test_access_map.py)."""

from __future__ import annotations

from audit_app.core.access import PUBLIC
from audit_app.evidence import jobs
from audit_app.extensions import db
from tests.factories import make_photo, make_version, make_visit

OTHERS_404 = {"other_client": 404, "other_evaluator": 404}


def _approved_photo(world) -> int:
    def build():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        visit = make_visit(client, evaluator, make_version(), status="in_progress")
        photo = make_photo(visit, evaluator)
        visit.status = "approved"
        db.session.commit()
        jobs.redact(photo.id)  # blurred, so the client may see it
        return photo.id

    return world.once("evidence_approved_photo", build)


def _open_visit(world) -> int:
    def build():
        visit = make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), make_version())
        db.session.commit()
        return visit.id

    return world.once("evidence_open_visit", build)


RULES = {
    # an empty POST is a 400 for the visit's evaluator; another evaluator does not learn the visit exists
    "evidence.upload": ({"evaluator"}, lambda w: {"visit_id": _open_visit(w)}, {"other_evaluator": 404}),
    # the photo of an approved visit: its evaluator, admins and the client see it
    # public rule, so that an anonymous visitor gets the same 404 as other tenants
    "evidence.photo": (PUBLIC, lambda w: {"photo_id": _approved_photo(w), "size": "thumb"},
                       {"anonymous": 404, **OTHERS_404}),
    # approved: no longer editable (409) for its evaluator
    "evidence.update": ({"evaluator"}, lambda w: {"photo_id": _approved_photo(w)}, {"other_evaluator": 404}),
    "evidence.delete": ({"evaluator"}, lambda w: {"photo_id": _approved_photo(w)}, {"other_evaluator": 404}),
    # the review screen's redaction tools: admins only (an empty POST is a 400)
    "evidence.redaction_status": ({"admin"}, lambda w: {"photo_id": _approved_photo(w)}),
    "evidence.regions": ({"admin"}, lambda w: {"photo_id": _approved_photo(w)}),
    "evidence.redaction_retry": ({"admin"}, lambda w: {"photo_id": _approved_photo(w)}),
}
