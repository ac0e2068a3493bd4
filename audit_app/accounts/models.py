"""Clients (tenants), users and the sign-in throttle."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.models import TenantMixin, TimestampMixin, db

ROLES = ("admin", "evaluator", "client")
LANGUAGES = ("fi", "en")


class Client(TimestampMixin, TenantMixin, db.Model):
    """An audited company: the tenant boundary."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: faces and licence plates in photos are blurred before the client sees them
    redact_photos: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    users: Mapped[list[User]] = relationship(back_populates="client")

    @property
    def client_id(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name!r}>"


#: the key of the Flask session that carries the signed-in device's token (``UserSession``)
SESSION_TOKEN_KEY = "sid"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="fi")
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: a client user who manages its organisation's improvement: targets, self-assessments, actions
    manager: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    last_login_at: Mapped[datetime | None]

    client: Mapped[Client | None] = relationship(back_populates="users")

    # Flask-Login: a deactivated user is signed out on the next request.
    @property
    def is_active(self) -> bool:
        return bool(self.active) and (self.client is None or self.client.active)

    def get_id(self) -> str:
        # the session's validity lives on the server (``UserSession``), not in this id
        return str(self.id)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_evaluator(self) -> bool:
        return self.role == "evaluator"

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def is_manager(self) -> bool:
        """A client user who sets targets, runs self-assessments and manages corrective actions."""
        return self.role == "client" and bool(self.manager)

    def set_password(self, password: str) -> None:
        """Hash with the configured method: scrypt, a memory-hard key-derivation function, unless
        the configuration names a cheaper one (the tests do); scrypt outside an app context."""
        from flask import current_app, has_app_context

        method = current_app.config.get("PASSWORD_HASH_METHOD") if has_app_context() else None
        self.password_hash = generate_password_hash(password, method=method or "scrypt")

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def visible_to(self, user) -> bool:
        return user.is_admin

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class LoginThrottle(db.Model):
    """Failed sign-ins per account and per address, shared by every worker."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class UserSession(db.Model):
    """A signed-in device. The browser's cookie carries a random token; only its SHA-256 is kept.

    Signing out deletes the row, and so do a password change (the user's other sessions), an
    admin's password reset and a deactivation (all of them): a copied cookie stops working.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship()


from .tokens import ApiToken  # noqa: E402,F401  (API tokens: registered with the metadata here)
