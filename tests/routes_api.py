"""Access table of the /api/v1 routes and the API-token pages (merged by tests/helpers.py).

The walk signs in through the browser's session, which the API accepts too (with CSRF for writes);
an anonymous call gets a 401 problem instead of the sign-in page. Objects named belong to client A.
"""

from __future__ import annotations

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
