"""Routes of the submissions package for tests/test_access_map.py."""

from __future__ import annotations

from audit_app.core.access import PUBLIC
from audit_app.extensions import db

from . import factories

OTHERS = {"other_evaluator": 404}


def _visit(world, status="in_progress"):
    def make():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version()
        visit = factories.make_visit(client, evaluator, version, status=status)
        db.session.commit()
        return visit.id

    return world.once(f"submissions_visit_{status}", make)


def visit_args(world):
    return {"visit_id": _visit(world)}


def submitted_args(world):
    def make():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        visit = factories.make_scored_visit(client, evaluator, status="submitted")
        db.session.commit()
        return visit.id

    return {"visit_id": world.once("submissions_submitted", make)}


RULES = {
    "submissions.start": ({"evaluator"}, lambda w: {"visit_id": _visit(w, "assigned")}, OTHERS),
    "submissions.form": ({"admin", "evaluator"}, visit_args, OTHERS),
    "submissions.save_answer": ({"evaluator"}, visit_args, OTHERS),
    "submissions.submit": ({"evaluator"}, visit_args, OTHERS),
    "submissions.review": ({"admin"}, submitted_args),
    "submissions.correct": ({"admin"}, submitted_args),
    "submissions.return_visit": ({"admin"}, submitted_args),
    "submissions.approve": ({"admin"}, submitted_args),
    "submissions.reject": ({"admin"}, submitted_args),
    "submissions.queue": ({"admin"}, lambda w: {}),
    "submissions.submitted": ({"evaluator"}, visit_args, OTHERS),
    "submissions.service_worker": (PUBLIC, lambda w: {}),
    "submissions.manifest": (PUBLIC, lambda w: {}),
}
