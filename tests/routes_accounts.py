"""Access table of the app's static files and the accounts package's routes (merged by
tests/helpers.py for tests/test_access_map.py)."""

from __future__ import annotations

from audit_app.core.access import AUTHENTICATED, PUBLIC


def no_args(world):
    return {}


RULES = {
    "static": (PUBLIC, lambda w: {"filename": "css/app.css"}),
    "bootstrap.static": (PUBLIC, lambda w: {"filename": "css/bootstrap.min.css"}),
    "accounts.index": (AUTHENTICATED, no_args),
    "accounts.login": (PUBLIC, no_args),
    "accounts.logout": (AUTHENTICATED, no_args),
    "accounts.switch_language": (PUBLIC, no_args),
    "accounts.account": (AUTHENTICATED, no_args),
    "accounts.password": (AUTHENTICATED, no_args),
    "accounts.clients": ({"admin"}, no_args),
    "accounts.client_new": ({"admin"}, no_args),
    "accounts.client_edit": ({"admin"}, lambda w: {"client_id": w.ids["client_a"]}),
    "accounts.users": ({"admin"}, no_args),
    "accounts.user_new": ({"admin"}, no_args),
    "accounts.user_edit": ({"admin"}, lambda w: {"user_id": w.ids["client_user"]}),
    "accounts.user_password": ({"admin"}, lambda w: {"user_id": w.ids["client_user"]}),
}
