"""Reads for accounts."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from ..core.access import parse_session_id
from ..core.models import db
from .models import SESSION_FRAGMENT, Client, User

#: built once: ``session.get`` builds its query on every call (the loader runs on every request)
_USER_BY_ID = select(User).where(User.id == bindparam("id"))


def load_user(user_id: str) -> User | None:
    """Flask-Login loader; the id carries a fragment of the password hash."""
    identity = parse_session_id(user_id)
    if identity is None:
        return None
    user = db.session.execute(_USER_BY_ID, {"id": identity[0]}).scalar()
    if user is None or user.password_hash[-SESSION_FRAGMENT:] != identity[1]:
        return None
    return user


def clients(active_only: bool = False) -> list[Client]:
    stmt = select(Client).order_by(Client.name)
    if active_only:
        stmt = stmt.where(Client.active.is_(True))
    return list(db.session.scalars(stmt))


def users(role: str | None = None, client_id: int | None = None) -> list[User]:
    stmt = select(User).order_by(User.role, User.name)
    if role:
        stmt = stmt.where(User.role == role)
    if client_id:
        stmt = stmt.where(User.client_id == client_id)
    return list(db.session.scalars(stmt))


def evaluators() -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(User.role == "evaluator", User.active.is_(True)).order_by(User.name)
        )
    )
