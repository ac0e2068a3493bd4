"""Writes for accounts. Operations flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, select, update

from ..core.access import MAX_ID
from ..core.errors import DomainError
from ..core.models import db, utcnow
from .models import LANGUAGES, ROLES, Client, LoginThrottle, User, UserSession


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _new_pseudonym() -> str:
    while True:
        candidate = "E-" + secrets.token_hex(3).upper()
        if not db.session.scalar(select(User.id).where(User.pseudonym == candidate)):
            return candidate


def _check_user_fields(*, email: str, role: str, client: Client | None, language: str, user_id=None):
    if role not in ROLES:
        raise DomainError(_("Choose a role."), field="role")
    if language not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="language")
    if role == "client" and client is None:
        raise DomainError(_("A client user must belong to a client."), field="client_id")
    existing = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None and existing.id != user_id:
        raise DomainError(_("A user with this email address already exists."), field="email")


def create_client(name: str, *, redact_photos: bool = True) -> Client:
    name = name.strip()
    if db.session.scalar(select(Client).where(func.lower(Client.name) == name.lower())):
        raise DomainError(_("A client with this name already exists."), field="name")
    client = Client(name=name, active=True, redact_photos=bool(redact_photos))
    db.session.add(client)
    db.session.flush()
    return client


def update_client(client: Client, *, name: str, active: bool, redact_photos: bool | None = None) -> Client:
    name = name.strip()
    other = db.session.scalar(select(Client).where(func.lower(Client.name) == name.lower()))
    if other is not None and other.id != client.id:
        raise DomainError(_("A client with this name already exists."), field="name")
    client.name = name
    client.active = active
    if redact_photos is not None:
        client.redact_photos = bool(redact_photos)
    if not active:
        for user in client.users:
            end_sessions(user)
    db.session.flush()
    return client


def create_user(
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    client: Client | None = None,
    language: str = "fi",
    must_change_password: bool = True,
    manager: bool = False,
) -> User:
    email = normalise_email(email)
    _check_user_fields(email=email, role=role, client=client, language=language)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        client=client if role == "client" else None,
        language=language,
        active=True,
        must_change_password=must_change_password,
        manager=bool(manager) and role == "client",
        pseudonym=_new_pseudonym(),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_user(
    user: User, *, email: str, name: str, role: str, client: Client | None, language: str, active: bool,
    manager: bool | None = None,
) -> User:
    email = normalise_email(email)
    _check_user_fields(email=email, role=role, client=client, language=language, user_id=user.id)
    user.email = email
    user.name = name.strip()
    user.role = role
    user.client = client if role == "client" else None
    user.language = language
    user.active = active
    if manager is not None:
        user.manager = bool(manager)
    if role != "client":
        user.manager = False  # only a client user manages its organisation
    if not active:
        end_sessions(user)
    db.session.flush()
    return user


def set_temporary_password(user: User, password: str) -> None:
    """An admin's reset: every session of the user ends."""
    user.set_password(password)
    user.must_change_password = True
    end_sessions(user)
    db.session.flush()


def change_own_password(user: User, current: str, new: str, *, keep_token: str | None = None) -> None:
    """The user's own change: every other session of the user ends (this device's stays)."""
    if not user.check_password(current):
        raise DomainError(_("The current password is not correct."), field="current_password")
    if current == new:
        raise DomainError(_("Choose a new password that differs from the current one."), field="new_password")
    user.set_password(new)
    user.must_change_password = False
    end_sessions(user, keep_token=keep_token)
    db.session.flush()


def set_language(user: User, language: str) -> None:
    if language not in LANGUAGES:
        raise DomainError(_("Choose a language."), field="language")
    user.language = language
    db.session.flush()


# --- sign-in throttle -------------------------------------------------------------------


def _throttle_keys(email: str, address: str | None) -> list[tuple[str, int]]:
    cfg = current_app.config
    keys = [(f"email:{normalise_email(email)}"[:300], cfg["LOGIN_MAX_FAILURES"])]
    if address:
        keys.append((f"addr:{address}"[:300], cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]))
    return keys


def locked_minutes(email: str, address: str | None) -> int:
    """Minutes left before sign-in may be tried again; 0 when not locked."""
    now = utcnow()
    worst = 0
    for key, _limit in _throttle_keys(email, address):
        row = db.session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            worst = max(worst, int((row.locked_until - now).total_seconds() // 60) + 1)
    return worst


def record_failed_login(email: str, address: str | None) -> None:
    now = utcnow()
    window = timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
    for key, limit in _throttle_keys(email, address):
        row = db.session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, first_failure_at=now)
            db.session.add(row)
        elif now - row.first_failure_at > window and (row.locked_until is None or row.locked_until <= now):
            row.failures = 0
            row.first_failure_at = now
            row.locked_until = None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + window
    db.session.flush()


@cache
def _unknown_user(method: str) -> User:
    """Stands in for an address nobody has: checking its password costs what a real check costs."""
    user = User()
    user.set_password(secrets.token_hex(16))
    return user


def authenticate(email: str, password: str, address: str | None) -> User | None:
    """Return the user for good credentials; record a failure otherwise.

    The caller checks ``locked_minutes`` first. A deactivated user cannot sign in.
    """
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        # as long as for a known address: the time taken tells nothing about who has an account
        _unknown_user(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")).check_password(password)
    if user is None or not user.check_password(password) or not user.is_active:
        record_failed_login(email, address)
        return None
    row = db.session.get(LoginThrottle, _throttle_keys(email, None)[0][0])
    if row is not None:
        db.session.delete(row)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


# --- sessions (signed-in devices) -------------------------------------------------------------

#: how often a session's "last seen" is written (not on every request)
SESSION_TOUCH = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, user_agent: str = "") -> str:
    """A new signed-in device for ``user``; returns its token for the browser's cookie."""
    now = utcnow()
    expired = now - current_app.permanent_session_lifetime
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.last_seen_at < expired))
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                               user_agent=(user_agent or "").replace("\x00", "")[:255]))
    db.session.flush()
    return token


@cache
def _session_lookup():
    """The user of an open session and that session's id and last use, built once (the loader runs
    on every request)."""
    return (select(User, UserSession.id, UserSession.last_seen_at)
            .join(UserSession, UserSession.user_id == User.id)
            .where(UserSession.token_hash == bindparam("token_hash"), User.id == bindparam("user_id")))


def session_user(user_id: str, token: str | None) -> User | None:
    """The user a browser's cookie names, if that session is still open; its last use is noted
    (at most every ``SESSION_TOUCH``)."""
    if not token or not str(user_id).isdigit() or int(user_id) > MAX_ID:
        return None
    row = db.session.execute(_session_lookup(), {"token_hash": token_hash(token), "user_id": int(user_id)}).first()
    if row is None:
        return None
    user, device_id, last_seen_at = row
    now = utcnow()
    if now - last_seen_at > current_app.permanent_session_lifetime or not user.is_active:
        return None
    if now - last_seen_at > SESSION_TOUCH:
        db.session.execute(update(UserSession).where(UserSession.id == device_id).values(last_seen_at=now))
    return user


def end_session(token: str | None) -> None:
    """Sign one device out (its cookie stops working)."""
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
        db.session.flush()


def end_device(user: User, device_id: int) -> bool:
    """Sign out one of ``user``'s own devices; False when it is not theirs (or gone)."""
    done = db.session.execute(delete(UserSession).where(UserSession.id == device_id, UserSession.user_id == user.id))
    db.session.flush()
    return bool(done.rowcount)


def end_sessions(user: User, *, keep_token: str | None = None) -> None:
    """Sign ``user`` out everywhere (but on the device holding ``keep_token``)."""
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != token_hash(keep_token))
    db.session.execute(stmt)
    db.session.flush()
