"""Reads for accounts."""

from __future__ import annotations

from sqlalchemy import select

from ..core.models import db
from .models import Client, User, UserSession


def devices(user: User) -> list[UserSession]:
    """The user's signed-in devices, the most recently seen first."""
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.last_seen_at.desc())
    ))


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


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("SamsungBrowser/", "Samsung Internet"),
             ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device_label(user_agent: str) -> str:
    """A browser's User-Agent as people name it: "Firefox · Windows"; "" when unknown."""
    agent = user_agent or ""
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    return " · ".join(part for part in (browser, system) if part)
