"""Writes of notifications: events into the outbox (in the change's own transaction), webhook
endpoints, redelivery and e-mail preferences. Operations flush, never commit.

Events come from ``visits.signals.status_changed`` (``visit.released`` on approval,
``visit.submitted``, and ``visit.returned`` for the evaluator's e-mail) and from a flush hook:
a visit given to an evaluator (``visit.assigned``), a generated report done (``report.ready``), a
corrective action created (``action.created``) or verified by a later visit (``action.verified``).
A status change recorded for a past moment (demo data, imports) notifies nobody. The notices
that come from the passing of time (an action overdue, a visit due tomorrow, the daily digest)
are written by the periodic check, ``periodic.tick``.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from ..core.aftercommit import after_commit, after_rollback
from ..core.errors import DomainError
from ..core.models import db, utcnow
from ..improvement.models import CorrectiveAction
from ..reports.models import GeneratedReport
from ..visits.models import Visit
from ..visits.signals import status_changed
from .models import (
    CLIENT_EVENTS,
    EMAIL_CATEGORIES,
    RELEASED_MODES,
    WEBHOOK_EVENTS,
    EmailOptOut,
    EmailPreference,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

#: a status change recorded this long before now is history (demo data, imports), not news
BACKDATED = timedelta(hours=1)
URL_MAX = 500
_KICK_FLAG = "notifications_kick"


# --- the outbox ---------------------------------------------------------------------------------


def record(topic: str, client_id: int | None, payload: dict, session: Session | None = None) -> OutboxEvent:
    """Write an event to the outbox in the current transaction; delivery is woken after the commit."""
    session = session or db.session
    row = OutboxEvent(topic=topic, client_id=client_id, payload=payload, created_at=utcnow())
    session.add(row)
    _kick_after_commit(session)
    return row


def _kick_after_commit(session) -> None:
    if not has_app_context() or session.info.get(_KICK_FLAG):
        return
    app = current_app._get_current_object()
    session.info[_KICK_FLAG] = True

    def kick():
        session.info.pop(_KICK_FLAG, None)
        from . import delivery

        delivery.kick(app)

    after_commit(kick)
    after_rollback(lambda: session.info.pop(_KICK_FLAG, None))


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value else None


def _visit_payload(visit: Visit) -> dict:
    return {"visit_id": visit.id, "client_id": visit.client_id, "location_id": visit.location_id,
            "channel": visit.channel, "status": visit.status}


def action_payload(action: CorrectiveAction) -> dict:
    return {"action_id": action.id, "client_id": action.client_id, "location_id": action.location_id,
            "channel": action.channel, "visit_id": action.visit_id, "question_key": action.question_key,
            "what": action.what, "owner_id": action.owner_id, "status": action.status,
            "due_on": action.due_on.isoformat() if action.due_on else None}


def _on_status_changed(visit, old=None, new=None, user=None, comment="", at=None, **_ignored) -> None:
    if at is not None and at < utcnow() - BACKDATED:
        return
    if new == "approved":
        payload = {**_visit_payload(visit), "score_overall": visit.score_overall,
                   "critical_fail": bool(visit.score_critical_fail), "released_at": _iso(visit.approved_at)}
        record("visit.released", visit.client_id, payload)
    elif new == "submitted":
        record("visit.submitted", visit.client_id, {**_visit_payload(visit), "submitted_at": _iso(visit.submitted_at)})
    elif new == "returned" and visit.evaluator_id:
        record("visit.returned", visit.client_id,
               {**_visit_payload(visit), "evaluator_id": visit.evaluator_id, "comment": comment or ""})


status_changed.connect(_on_status_changed, weak=False)


def _after_flush(session: Session, flush_context) -> None:
    """A visit given to an evaluator, and a generated report done, become events. After the flush
    (ids exist) while the history still shows what changed; the commit flushes the new rows."""
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Visit):
            state = db.inspect(obj)
            changed = obj in session.new or state.attrs.evaluator_id.history.has_changes()
            if changed and obj.evaluator_id is not None and obj.status == "assigned":
                record("visit.assigned", obj.client_id, {**_visit_payload(obj), "evaluator_id": obj.evaluator_id},
                       session)
        elif isinstance(obj, GeneratedReport):
            if obj.state == "done" and db.inspect(obj).attrs.state.history.has_changes():
                record("report.ready", obj.client_id,
                       {"report_id": obj.id, "client_id": obj.client_id, "scope": obj.scope,
                        "scope_ref": obj.scope_ref, "language": obj.language, "released": bool(obj.released),
                        "finished_at": _iso(obj.finished_at)}, session)
        elif isinstance(obj, CorrectiveAction):
            _action_flushed(session, obj)


def _action_flushed(session: Session, action: CorrectiveAction) -> None:
    if action.created_at is not None and action.created_at < utcnow() - BACKDATED:
        return  # history (demo data, imports)
    if action in session.new:
        record("action.created", action.client_id, action_payload(action), session)
    elif action.status == "verified" and db.inspect(action).attrs.status.history.has_changes():
        record("action.verified", action.client_id,
               {**action_payload(action), "verified_by_visit_id": action.decided_by_visit_id}, session)


if not event.contains(Session, "after_flush", _after_flush):
    event.listen(Session, "after_flush", _after_flush)


# --- webhook endpoints ---------------------------------------------------------------------------


def check_url(url: str, *, allow_private: bool | None = None) -> str:
    """The endpoint's address, or ``DomainError``: HTTPS, and never a loopback, private or
    link-local address unless ``WEBHOOK_ALLOW_PRIVATE`` is set (tests; then plain HTTP too)."""
    return resolve_url(url, allow_private=allow_private)[0]


def resolve_url(url: str, *, allow_private: bool | None = None) -> tuple[str, list[str]]:
    """``check_url``, and the addresses the name resolved to, each checked: delivery connects to
    one of exactly these (``pinned``), so the name cannot point elsewhere between check and send."""
    if allow_private is None:
        allow_private = bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE"))
    url = (url or "").replace("\x00", "").strip()
    if not url:
        raise DomainError(_("Enter the address of the endpoint."), field="url")
    if len(url) > URL_MAX:
        raise DomainError(_("%(field)s is too long (at most %(max)d characters).", field=_("Address"), max=URL_MAX),
                          field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        raise DomainError(_("Enter a full address that starts with https://."), field="url")
    if parts.username or parts.password:
        raise DomainError(_("Leave the user name and password out of the address."), field="url")
    if parts.scheme == "http" and not allow_private:
        raise DomainError(_("The address must start with https://."), field="url")
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise DomainError(_("The server %(host)s cannot be found.", host=parts.hostname), field="url") from None
    addresses: list[str] = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global and not allow_private:
            raise DomainError(_("The address leads to a local or private network. Use a public address."),
                              field="url")
        if parts.scheme == "http" and address.is_global:
            raise DomainError(_("The address must start with https://."), field="url")
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise DomainError(_("The server %(host)s cannot be found.", host=parts.hostname), field="url")
    return url, addresses


def allowed_events(user) -> tuple[str, ...]:
    return WEBHOOK_EVENTS if user.is_admin else CLIENT_EVENTS if user.is_manager else ()


def create_endpoint(user, *, url: str, events: list[str], client_id: int | None = None) -> WebhookEndpoint:
    """A new endpoint with a new secret. Admins: any events, every client or one; a client manager:
    its own organisation's events only."""
    if not (user.is_admin or user.is_manager):
        raise DomainError(_("Only admins and client managers may add webhooks."))
    url = check_url(url)
    events = [e for e in WEBHOOK_EVENTS if e in set(events or ())]
    if not events:
        raise DomainError(_("Choose at least one event."), field="events")
    if set(events) - set(allowed_events(user)):
        raise DomainError(_("Choose only the events you may receive."), field="events")
    endpoint = WebhookEndpoint(url=url, events=events, secret="whsec_" + secrets.token_urlsafe(32), active=True,
                               agency=user.is_admin, client_id=client_id if user.is_admin else user.client_id,
                               created_by_id=user.id, created_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def delete_endpoint(endpoint: WebhookEndpoint) -> None:
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    db.session.flush()


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event to its endpoint again, as a new delivery (the log keeps both)."""
    again = WebhookDelivery(endpoint_id=delivery.endpoint_id, event_id=delivery.event_id, state="pending",
                            attempts=0, next_attempt_at=utcnow(), created_at=utcnow())
    db.session.add(again)
    db.session.flush()
    _kick_after_commit(db.session)
    return again


# --- e-mail preferences --------------------------------------------------------------------------


def categories_for(user) -> list[str]:
    return [c for c, roles in EMAIL_CATEGORIES.items()
            if user.role in roles or ("manager" in roles and user.is_manager)]


def released_digest(user_id: int) -> bool:
    """Whether the user takes "results released" as one e-mail a day."""
    return bool(db.session.scalar(select(EmailPreference.released_digest).where(EmailPreference.user_id == user_id)))


def set_released_mode(user, mode: str) -> None:
    """``each`` (one e-mail per release) or ``daily`` (one digest a day); for users who get releases."""
    if mode not in RELEASED_MODES or "released" not in categories_for(user):
        return
    row = db.session.get(EmailPreference, user.id)
    if row is None:
        row = EmailPreference(user_id=user.id)
        db.session.add(row)
    row.released_digest = mode == "daily"
    db.session.flush()


def turned_off(user_id: int) -> set[str]:
    return set(db.session.scalars(select(EmailOptOut.category).where(EmailOptOut.user_id == user_id)))


def set_email_categories(user, wanted: set[str]) -> None:
    """Keep exactly the user's categories in ``wanted`` on; the others off."""
    mine = categories_for(user)
    off = turned_off(user.id)
    for category in mine:
        if category in wanted and category in off:
            db.session.execute(delete(EmailOptOut).where(EmailOptOut.user_id == user.id,
                                                         EmailOptOut.category == category))
        elif category not in wanted and category not in off:
            db.session.add(EmailOptOut(user_id=user.id, category=category))
    db.session.flush()
