"""Access table of the /api/v1 routes and the API-token pages (merged by tests/helpers.py).

The walk signs in through the browser's session, which the API accepts too (with CSRF for writes);
an anonymous call gets a 401 problem instead of the sign-in page. Objects named belong to client A.
"""

from __future__ import annotations

from datetime import date, timedelta

from audit_app.core.access import AUTHENTICATED, PUBLIC

ANON_401 = {"anonymous": 401}
NONE = 2**31 - 1


def no_args(world):
    return {}


def _visit(world, status="approved"):
    def make():
        from audit_app.extensions import db
        from tests.factories import make_scored_visit

        visit = make_scored_visit(world.client_a, world.evaluator, status=status)
        db.session.commit()
        return visit.id

    return world.once(f"api_visit_{status}", make)


def _assigned(world):
    def make():
        from audit_app.extensions import db
        from tests.factories import make_version, make_visit

        visit = make_visit(world.client_a, world.evaluator, make_version())
        db.session.commit()
        return visit.id

    return world.once("api_visit_assigned", make)


# a client of another tenant and another evaluator: 404 for client A's approved visit
VISIT_OTHERS = {"anonymous": 401, "other_client": 404, "other_evaluator": 404}

RULES = {
    "tokens.new": (AUTHENTICATED, no_args),
    "tokens.revoke": (AUTHENTICATED, lambda w: {"token_id": NONE},
                      {r: 404 for r in ("admin", "evaluator", "other_evaluator", "client", "other_client")}),
    "tokens.admin_list": ({"admin"}, no_args),
    "api.openapi": (PUBLIC, no_args),
    "api.reference": (PUBLIC, no_args),
    "api.list_visits": (AUTHENTICATED, no_args, ANON_401),
    "api.get_visit": (AUTHENTICATED, lambda w: {"visit_id": _visit(w)}, VISIT_OTHERS),
    "api.visit_results": (AUTHENTICATED, lambda w: {"visit_id": _visit(w)}, VISIT_OTHERS),
    # an empty body: 422 for the admin (the fields are required)
    "api.create_visit": ({"admin"}, no_args, {"anonymous": 401, "admin": 422}),
    "api.reassign_visit": ({"admin"}, lambda w: {"visit_id": _assigned(w)}, {"anonymous": 401, "admin": 422}),
    # cancelling an assigned visit with an empty body works (the comment is optional)
    "api.cancel_visit": ({"admin"}, lambda w: {"visit_id": _assigned(w)}, ANON_401),
    "api.photo": (AUTHENTICATED, lambda w: {"photo_id": NONE, "size": "report"},
                  {"anonymous": 401, **{r: 404 for r in ("admin", "evaluator", "other_evaluator", "client",
                                                         "other_client")}}),
    "api.list_clients": ({"admin", "client"}, no_args, ANON_401),
    "api.get_client": ({"admin", "client"}, lambda w: {"client_id": w.ids["client_a"]},
                       {"anonymous": 401, "other_client": 404}),
    "api.list_locations": ({"admin", "client"}, lambda w: {"client_id": w.ids["client_a"]},
                           {"anonymous": 401, "other_client": 404}),
    "api.list_channels": ({"admin", "client"}, lambda w: {"client_id": w.ids["client_a"]},
                          {"anonymous": 401, "other_client": 404}),
    "api.list_checklist_versions": ({"admin"}, no_args, ANON_401),
    "api.get_checklist_version": ({"admin"}, lambda w: {"version_id": NONE}, {"anonymous": 401, "admin": 404}),
}


# --- waves, generated reports, the close-the-loop objects (tests/test_api_loop.py) -------------------

#: an empty (form) body: 422 for whoever the role rule lets in, before any object is looked at
BODY_422 = {"anonymous": 401, "admin": 422, "client": 422, "other_client": 422}
OTHER_404 = {"anonymous": 401, "other_client": 404}


def _loop_manager(world):
    """Client A's user manages its loop (the same mark as tests/routes_improvement.py)."""

    def make():
        from audit_app.accounts.models import User
        from audit_app.extensions import db

        db.session.get(User, world.ids["client_user"]).manager = True
        db.session.commit()
        return True

    world.once("improvement.manager", make)


def _wave(world):
    def make():
        from audit_app.accounts.models import User
        from audit_app.extensions import db
        from audit_app.visits import operations
        from tests.factories import make_version

        wave = operations.create_wave(client=db.session.merge(world.client_a), name="Wave", version=make_version(),
                                      period_start=date.today(), period_end=date.today(), channels=["phone"],
                                      locations=[], evaluators=[db.session.get(User, world.ids["evaluator"])])
        db.session.commit()
        return wave.id

    return {"wave_id": world.once("api_wave", make)}


def _report(world):
    def make():
        from audit_app.extensions import db
        from audit_app.reports import operations

        row = operations.create_generated(world.ids["client_a"], "visit", str(_visit(world)), None, None, "fi", None)
        operations.render_generated(row)
        db.session.commit()
        return row.id

    return {"report_id": world.once("api_report", make)}


def _target(world):
    def make():
        from audit_app.extensions import db
        from audit_app.improvement import operations

        target = operations.set_target(world.ids["client_a"], None, dimension="overall", channel=None, value=75,
                                       applies_from=date.today())
        db.session.commit()
        return target.id

    return {"target_id": world.once("api_target", make)}


def _assessment(world):
    def make():
        from audit_app.accounts.models import User
        from audit_app.extensions import db
        from audit_app.improvement import operations
        from tests.factories import make_version

        sa = operations.start_self_assessment(world.ids["client_a"], db.session.get(User, world.ids["client_user"]),
                                              version=make_version(), channel="phone", location=None)
        db.session.commit()
        return sa.id

    return {"assessment_id": world.once("api_assessment", make)}


def _action(world):
    def make():
        from sqlalchemy import select

        from audit_app.accounts.models import User
        from audit_app.checklists.models import Question
        from audit_app.extensions import db
        from audit_app.improvement import operations
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, _visit(world))
        question = db.session.scalar(select(Question).where(Question.version_id == visit.checklist_version_id,
                                                            Question.key == "q4"))
        owner = db.session.get(User, world.ids["client_user"])
        action = operations.create_action(visit.client_id, owner, question=question, what="Ask for ID", owner=owner,
                                          due_on=date.today() + timedelta(days=7), visit=visit)
        db.session.commit()
        return action.id

    return {"action_id": world.once("api_action", make)}


def _client_a(world):
    _loop_manager(world)
    return {"client_id": world.ids["client_a"]}


LOOP = {"admin", "client"}

RULES.update({
    "api.create_wave": ({"admin"}, no_args, {"anonymous": 401, "admin": 422}),
    "api.get_wave": ({"admin"}, _wave, ANON_401),
    "api.list_reports": (LOOP, no_args, ANON_401),
    "api.request_report": (LOOP, no_args, BODY_422),
    "api.get_report": (LOOP, _report, OTHER_404),
    "api.download_report": (LOOP, _report, OTHER_404),
    "api.list_targets": (LOOP, _client_a, OTHER_404),
    "api.set_target": (LOOP, _client_a, BODY_422),
    "api.target": (LOOP, _target, OTHER_404),  # GET; DELETE (managers only) in tests/test_api_loop.py
    "api.list_self_assessments": (LOOP, _client_a, OTHER_404),
    "api.get_self_assessment": (LOOP, _assessment, OTHER_404),
    "api.list_actions": (LOOP, _client_a, OTHER_404),
    "api.create_action": (LOOP, _client_a, BODY_422),
    "api.get_action": (LOOP, _action, OTHER_404),
    "api.move_action": (LOOP, _action, BODY_422),
    "api.comment_action": (LOOP, _action, BODY_422),
})
