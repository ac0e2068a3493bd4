"""Who calls the API: a personal token (``Authorization: Bearer oe_...``) through Flask-Login's
``request_loader``, or the browser's own session. One pipeline: after this, ``core/access.py`` and
the scoped lookups decide exactly as for the pages.

A token-authenticated request needs no CSRF token (a browser never adds the header by itself); a
request on the browser's session does, as every form does. A ``read`` token cannot write (403).
"""

from __future__ import annotations

from flask import Flask, abort, g, request

from ..accounts.tokens import token_for
from ..extensions import csrf, login_manager
from .blueprint import blp

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def load_user_from_request(req):
    """Flask-Login's request loader: the user of a valid API token, only on the API."""
    if req.blueprint != blp.name:
        return None
    header = req.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token_for(secret.strip())
    if token is None:
        return None
    g.api_token = token
    return token.user


def current_token():
    return g.get("api_token")


@blp.before_request
def token_rules():
    """Runs after ``core/access.py`` has let the request in."""
    if request.method in SAFE_METHODS:
        return None
    token = current_token()
    if token is None:
        csrf.protect()  # the browser's session: CSRF as on every form
    elif not token.can_write:
        abort(403)
    return None


def init_app(app: Flask) -> None:
    login_manager.request_loader(load_user_from_request)
    # no login page for the API: an anonymous call is a 401 problem, not a redirect
    login_manager.blueprint_login_views[blp.name] = None
    csrf.exempt(blp)  # checked in token_rules: skipped only for token-authenticated requests
