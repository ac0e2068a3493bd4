"""Authorisation in one place.

Every view declares who may use it with one of the decorators below. A ``before_request``
hook enforces the rule for the matched endpoint and refuses (403) any endpoint that declares
none, so a forgotten rule fails closed; ``tests/test_access_map.py`` walks the URL map too.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from ..extensions import db, login_manager

PUBLIC = "public"
AUTHENTICATED = "authenticated"
ROLES = ("admin", "evaluator", "client")

#: the largest primary key: ids are 32-bit integers in PostgreSQL
MAX_ID = 2**31 - 1

#: endpoints of extensions that serve static files
STATIC_ENDPOINTS = {"static", "bootstrap.static"}


def _tag(rule) -> Callable:
    def decorator(view: Callable) -> Callable:
        view.access_rule = rule
        return view

    return decorator


def public(view: Callable) -> Callable:
    """Anyone, signed in or not."""
    return _tag(PUBLIC)(view)


def authenticated(view: Callable) -> Callable:
    """Any signed-in user, whatever the role."""
    return _tag(AUTHENTICATED)(view)


def roles(*allowed: str) -> Callable:
    """Signed-in users with one of these roles."""
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {unknown}")
    rule = frozenset(allowed)

    def decorator(view: Callable) -> Callable:
        view.access_rule = rule
        return view

    return decorator


def access_rule(endpoint: str):
    if endpoint in STATIC_ENDPOINTS:
        return PUBLIC
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


#: endpoints a user who must change their password may still use
PASSWORD_CHANGE_ENDPOINTS = {"accounts.password", "accounts.logout", *STATIC_ENDPOINTS}


def enforce_access():
    """``before_request`` hook: apply the endpoint's declared rule."""
    if request.endpoint is None:  # 404/405 are handled by the router
        return None
    rule = access_rule(request.endpoint)
    if rule is None:
        current_app.logger.error("endpoint %s declares no access rule", request.endpoint)
        abort(403)
    if rule == PUBLIC:
        return _password_change() if current_user.is_authenticated else None
    return _check(rule)


def _check(rule):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if rule != AUTHENTICATED and current_user.role not in rule:
        abort(403)
    return _password_change()


def _password_change():
    """A user with a temporary password goes to the password page first."""
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("accounts.password"))
    return None


def get_for_client(model, object_id, user=None, *, lock: bool = False):
    """Load ``model`` by primary key for ``user`` (default: the current user).

    Anything missing or outside what the user may see is a 404, never a 403, so ids of other
    tenants reveal nothing. Models decide visibility with ``visible_to(user)``. ``lock`` reads the
    row fresh from the database and locks it for the transaction (PostgreSQL; SQLite has no row
    locks), so writes that lock it first run one after the other.
    """
    object_id = _valid_id(object_id)
    if lock:
        obj = db.session.get(model, object_id, with_for_update=True, populate_existing=True)
    else:
        obj = db.session.get(model, object_id)
    return _visible(obj, user)


def get_for_client_with(model, object_id, other, onclause, user=None, *, lock: bool = False):
    """``get_for_client``, and in the same statement the ``other`` row that ``onclause`` joins to it
    (an outer join: ``None`` when there is none). Returns ``(obj, other_row)``; the access rule is
    the same, applied to ``obj``. One round trip instead of two on a hot path (the autosave)."""
    from sqlalchemy import select

    object_id = _valid_id(object_id)
    stmt = select(model, other).outerjoin(other, onclause).where(model.id == object_id)
    if lock:
        stmt = stmt.with_for_update(of=model).execution_options(populate_existing=True)
    row = db.session.execute(stmt).first()
    obj, found = row if row is not None else (None, None)
    return _visible(obj, user), found


def _valid_id(object_id) -> int:
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < object_id <= MAX_ID:  # the database would refuse it (a 500), not find it
        abort(404)
    return object_id


def _visible(obj, user):
    user = user if user is not None else current_user
    if obj is None or not user.is_authenticated or not obj.visible_to(user):
        abort(404)
    return obj
