"""Reads for accounts."""

from __future__ import annotations

from sqlalchemy import select

from ..core.models import db
from .models import Client, User


def load_user(user_id: str) -> User | None:
    """Flask-Login loader; the id carries a fragment of the password hash."""
    raw_id, _, fragment = (user_id or "").partition(":")
    if not raw_id.isdigit():
        return None
    user = db.session.get(User, int(raw_id))
    if user is None or user.password_hash[-12:] != fragment:
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
