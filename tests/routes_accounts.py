"""Access table of the app's static files and the accounts package's routes (merged by
tests/helpers.py for tests/test_access_map.py)."""

from __future__ import annotations

from audit_app.core.access import AUTHENTICATED, PUBLIC


def no_args(world):
    return {}


SIGNED_IN_404 = {role: 404 for role in ("admin", "evaluator", "other_evaluator", "client", "other_client")}

#: routes that end the session that calls them: the walk runs them last, each on a fresh sign-in
SIGNS_OUT = ("accounts.end_everywhere", "accounts.logout")


RULES = {
    "static": (PUBLIC, lambda w: {"filename": "css/app.css"}),
    "bootstrap.static": (PUBLIC, lambda w: {"filename": "css/bootstrap.min.css"}),
    "accounts.index": (AUTHENTICATED, no_args),
    "accounts.login": (PUBLIC, no_args),
    "accounts.logout": (AUTHENTICATED, no_args),
    "accounts.switch_language": (PUBLIC, no_args),
    "accounts.account": (AUTHENTICATED, no_args),
    "accounts.password": (AUTHENTICATED, no_args),
    # a device id nobody has: signing out a device that is not one's own is a 404
    "accounts.end_device": (AUTHENTICATED, lambda w: {"device_id": 2**31 - 1}, SIGNED_IN_404),
    "accounts.end_everywhere": (AUTHENTICATED, no_args),
    "accounts.clients": ({"admin"}, no_args),
    "accounts.client_new": ({"admin"}, no_args),
    "accounts.client_edit": ({"admin"}, lambda w: {"client_id": w.ids["client_a"]}),
    "accounts.users": ({"admin"}, no_args),
    "accounts.user_new": ({"admin"}, no_args),
    "accounts.user_edit": ({"admin"}, lambda w: {"user_id": w.ids["client_user"]}),
    "accounts.user_password": ({"admin"}, lambda w: {"user_id": w.ids["client_user"]}),
}
