"""Personal API tokens: a user's key to ``/api/v1``, acting with exactly that user's rights.

A token is shown once when it is made; only the SHA-256 of its random secret is kept. It has a
name, a scope (``read``, or ``read write``) and an expiry; it can be revoked by its owner or by an
admin, and its last use is noted. Operations flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.errors import DomainError
from ..core.models import db, utcnow

if TYPE_CHECKING:
    from .models import User

SCOPES = ("read", "read write")
SCOPE_LABELS = {"read": _l("Read"), "read write": _l("Read and write")}
#: what a token's text starts with, so that a leaked one is easy to recognise
PREFIX = "oe_"
NAME_MAX = 80
MAX_DAYS = 366
#: the last use is written at most this often
TOUCH = timedelta(minutes=1)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    scope: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship("User")

    @property
    def can_write(self) -> bool:
        return self.scope == "read write"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.expires_at > utcnow()

    def visible_to(self, user) -> bool:
        return user.is_admin or user.id == self.user_id


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(user: User, *, name: str, scope: str, expires_on: date | None) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns it and its text, which is never shown again."""
    name = (name or "").replace("\x00", "").strip()
    if not name:
        raise DomainError(_("The name is required."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Name"), max=NAME_MAX),
                          field="name")
    if scope not in SCOPES:
        raise DomainError(_("Choose what the token may do."), field="scope")
    today = utcnow().date()
    if expires_on is None or expires_on <= today:
        raise DomainError(_("The expiry date must be in the future."), field="expires_on")
    if expires_on > today + timedelta(days=MAX_DAYS):
        raise DomainError(_("A token can be valid for at most a year."), field="expires_on")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, scope=scope, token_hash=_hash(secret),
                     expires_at=datetime.combine(expires_on, datetime.min.time()))
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def token_for(secret: str | None) -> ApiToken | None:
    """The valid token whose text is ``secret`` (not revoked, not expired, its user active); its last
    use is noted. None for anything else."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or not token.active or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH:
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked and expired ones too, marked)."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def all_tokens() -> list[ApiToken]:
    """Every user's tokens that still work, for the admin's page, newest first."""
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow())
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))
