"""Access table of the improvement package's routes (merged into tests/test_access_map.py).

The client user of client A is made a manager here (the pages' writes are the managers'); admins
read every client's pages and change none (403 on writes); another client's ids are 404.
"""

from __future__ import annotations

from datetime import date, timedelta

from audit_app.extensions import db

from . import factories

ADMIN_CLIENT = {"admin", "client"}
OTHER_404 = {"other_client": 404}
WRITE = {"admin": 403, "other_client": 404}


def _user(world):
    """The client user as stored (``merge`` would copy the world's stale copy over the manager flag)."""
    from audit_app.accounts.models import User

    return db.session.get(User, world.ids["client_user"])


def _manager(world):
    def make():
        user = _user(world)
        user.manager = True
        db.session.commit()
        return True

    world.once("improvement.manager", make)


def _client(world):
    _manager(world)
    return {"client_id": world.ids["client_a"]}


def _failed_item(world):
    def make():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        db.session.commit()
        return visit.id

    return world.once("improvement.visit", make)


def _action(world):
    _manager(world)

    def make():
        from sqlalchemy import select

        from audit_app.checklists.models import Question
        from audit_app.improvement import operations
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, _failed_item(world))
        question = db.session.scalar(select(Question).where(Question.version_id == visit.checklist_version_id,
                                                            Question.key == "q4"))
        owner = _user(world)
        action = operations.create_action(visit.client_id, owner, question=question, what="Check identity first",
                                          owner=owner, due_on=date.today() + timedelta(days=7), visit=visit)
        db.session.commit()
        return action.id

    return {"action_id": world.once("improvement.action", make)}


def _assessment(world):
    _manager(world)

    def make():
        from audit_app.improvement import operations

        version = factories.make_version()
        sa = operations.start_self_assessment(world.ids["client_a"], _user(world),
                                              version=version, channel="phone", location=None)
        db.session.commit()
        return sa.id

    return {"assessment_id": world.once("improvement.assessment", make)}


def _new_action(world):
    return {**_client(world), "visit_id": _failed_item(world), "key": "q4"}


RULES = {
    "improvement.home": (ADMIN_CLIENT, lambda w: {}),
    "improvement.overview": (ADMIN_CLIENT, _client, OTHER_404),
    "improvement.targets": (ADMIN_CLIENT, _client, OTHER_404),
    # an empty POST (no CSRF token): 400 for the manager
    "improvement.target_delete": (ADMIN_CLIENT, lambda w: {**_client(w), "target_id": _target(w)}, WRITE),
    "improvement.self_assessments": (ADMIN_CLIENT, _client, OTHER_404),
    "improvement.self_assessment": (ADMIN_CLIENT, _assessment, OTHER_404),
    "improvement.self_assessment_delete": (ADMIN_CLIENT, _assessment, WRITE),
    "improvement.perception_gap": (ADMIN_CLIENT, _client, OTHER_404),
    "improvement.actions": (ADMIN_CLIENT, _client, OTHER_404),
    "improvement.action_new": (ADMIN_CLIENT, _new_action, WRITE),
    "improvement.actions_export": (ADMIN_CLIENT, lambda w: {**_client(w), "fmt": "csv"}, OTHER_404),
    "improvement.action": (ADMIN_CLIENT, _action, OTHER_404),
    "improvement.action_status": (ADMIN_CLIENT, _action, WRITE),
    "improvement.action_comment": (ADMIN_CLIENT, _action, WRITE),
    "improvement.action_photo_add": (ADMIN_CLIENT, _action, WRITE),
    "improvement.action_photo": (ADMIN_CLIENT, lambda w: _action_photo(w), OTHER_404),
}


def _target(world):
    def make():
        from audit_app.improvement import operations

        target = operations.set_target(world.ids["client_a"], None, dimension="overall", channel=None, value=80,
                                       applies_from=date.today())
        db.session.commit()
        return target.id

    return world.once("improvement.target", make)


def _action_photo(world):
    def make():
        from audit_app.evidence.storage import get_storage
        from audit_app.improvement import operations
        from audit_app.improvement.models import CorrectiveAction

        action = db.session.get(CorrectiveAction, _action(world)["action_id"])
        photo = operations.add_action_photo(action, _user(world), data=factories.jpeg_bytes(), caption="Fixed",
                                            storage=get_storage(), max_bytes=10**7, max_pixels=10**8)
        db.session.commit()
        return photo.id

    return {"photo_id": world.once("improvement.photo", make), "size": "thumb"}
