"""Delivery from the outbox: fan-out, webhooks and e-mail, with retries.

``drain()`` is one pass, and owns its commits:

1. *fan-out*: each event not yet dispatched becomes one ``WebhookDelivery`` per endpoint that
   subscribes to it and one ``EmailMessage`` per user who gets it, in one transaction with the
   event's ``dispatched_at`` (claimed with a conditional UPDATE; on PostgreSQL the candidates are
   read ``FOR UPDATE SKIP LOCKED`` so that several workers share the work);
2. *send*: due deliveries and e-mails are claimed the same way (``sending`` with a lease, so a
   process that dies while sending gives the row back when the lease ends), then sent outside
   any transaction, and the outcome recorded: delivered, or tried again after an exponential
   backoff (``NOTIFY_RETRY_BASE`` seconds, doubled each time), or failed after
   ``NOTIFY_MAX_ATTEMPTS`` tries (about a day by default).

Who drains: RQ workers on the ``notifications`` queue when ``REDIS_URL`` is set (a retry is
scheduled with ``enqueue_in``; ``worker.py`` runs the scheduler), otherwise a daemon thread in
each app process, started lazily (first request or first event) and woken after each commit
that wrote events; it also polls every ``NOTIFY_POLL_SECONDS``, which picks up retries and
anything left by a process that died after its commit, and runs the periodic check
(``periodic.tick``: overdue actions, visits due tomorrow, daily digests, pruning) every
``NOTIFY_TICK_SECONDS``. With RQ, cron runs ``flask notifications tick`` instead (README).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..accounts.models import User
from ..core.models import db, utcnow
from .models import (
    CLIENT_EVENTS,
    EmailMessage,
    EmailOptOut,
    EmailPreference,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)

QUEUE = "notifications"
LEASE = timedelta(minutes=5)
BATCH = 100
DEFAULT_RETRY_BASE = 60  # seconds: 1, 2, 4 ... 512 min; 12 tries span about 17 hours
DEFAULT_MAX_ATTEMPTS = 12
MAX_DELAY = 6 * 3600
TIMEOUT = (5, 15)  # connect, read (seconds)
SIGNATURE_HEADER = "Webhook-Signature"

log = logging.getLogger(__name__)


# --- signatures ----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body with the endpoint's secret>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Check a ``Webhook-Signature`` header (what a receiver does; the README shows the same)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


# --- one pass --------------------------------------------------------------------------------------


def drain(limit: int = BATCH) -> dict[str, int]:
    """Fan out new events and send what is due. Returns counts (``dispatched``, ``delivered``,
    ``sent``, ``retry``, ``failed``). Runs in an app context; owns its commits."""
    counts = {"dispatched": fan_out(limit), "delivered": 0, "sent": 0, "retry": 0, "failed": 0}
    for delivery_id in _claim(WebhookDelivery, limit):
        counts[_send_webhook(delivery_id)] += 1
    for message_id in _claim(EmailMessage, limit):
        outcome = _send_email(message_id)
        counts["sent" if outcome == "delivered" else outcome] += 1
    return counts


def drain_all(rounds: int = 20) -> dict[str, int]:
    """Drain until nothing is due now (tests, ``flask notifications drain``)."""
    total: dict[str, int] = {}
    for _ in range(rounds):
        counts = drain()
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if not any(counts.values()):
            break
    return total


def _skip_locked(stmt):
    if db.engine.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def fan_out(limit: int = BATCH) -> int:
    ids = db.session.scalars(_skip_locked(
        select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
    )).all()
    done = 0
    now = utcnow()
    endpoints = list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.active.is_(True)))) if ids else []
    for event_id in ids:
        claimed = db.session.execute(
            update(OutboxEvent).where(OutboxEvent.id == event_id, OutboxEvent.dispatched_at.is_(None))
            .values(dispatched_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            continue
        event = db.session.get(OutboxEvent, event_id)
        for endpoint in _endpoints_for(event, endpoints):
            db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, state="pending",
                                           next_attempt_at=now, created_at=now))
        for user_id, category, state in _recipients(event):
            db.session.add(EmailMessage(event_id=event.id, user_id=user_id, category=category, state=state,
                                        next_attempt_at=now, created_at=now))
        done += 1
    db.session.commit()  # the rows and the event's dispatched_at together
    return done


def _endpoints_for(event: OutboxEvent, endpoints: list[WebhookEndpoint]) -> list[WebhookEndpoint]:
    """Those of the active ``endpoints`` (read once per fan-out) that get ``event``."""
    out = []
    for endpoint in endpoints:
        if event.topic not in (endpoint.events or ()):
            continue
        if endpoint.agency:
            if endpoint.client_id is not None and endpoint.client_id != event.client_id:
                continue
        else:
            if endpoint.client_id != event.client_id or event.topic not in CLIENT_EVENTS:
                continue
            if event.topic == "report.ready" and not event.payload.get("released"):
                continue  # an internal report (of unapproved visits) is the agency's
        out.append(endpoint)
    return out


#: the e-mail category of each topic that sends e-mail (``digest`` answers to the ``released`` opt-out)
MAIL_TOPICS = {"visit.assigned": "assignment", "visit.returned": "returned", "visit.released": "released",
               "visit.due": "due", "action.overdue": "overdue", "digest.released": "digest"}


def _recipients(event: OutboxEvent) -> list[tuple[int, str, str]]:
    """(user id, category, first state) of each e-mail the event makes; a client user who takes
    releases as a daily digest gets a ``held`` row that the next digest gathers (``periodic``)."""
    category = MAIL_TOPICS.get(event.topic)
    if category is None:
        return []
    active = User.active.is_(True)
    if category == "released":
        users = select(User.id).where(User.role == "client", User.client_id == event.client_id, active)
    elif category == "overdue":
        users = select(User.id).where(User.role == "client", User.manager.is_(True),
                                      User.client_id == event.client_id, active)
    elif category == "digest":
        users = select(User.id).where(User.id == event.payload.get("user_id"), User.role == "client", active)
    else:
        users = select(User.id).where(User.id == event.payload.get("evaluator_id"), User.role == "evaluator", active)
    off = select(EmailOptOut.user_id).where(EmailOptOut.category == ("released" if category == "digest" else category))
    ids = list(db.session.scalars(users.where(User.id.not_in(off)).order_by(User.id)))
    digest: set[int] = set()
    if category == "released" and ids:
        digest = set(db.session.scalars(select(EmailPreference.user_id).where(
            EmailPreference.user_id.in_(ids), EmailPreference.released_digest.is_(True))))
    return [(uid, category, "held" if uid in digest else "pending") for uid in ids]


def _due(model, now):
    return or_(and_(model.state == "pending", model.next_attempt_at <= now),
               and_(model.state == "sending", model.claimed_until < now))


def _claim(model, limit: int) -> list[int]:
    now = utcnow()
    ids = db.session.scalars(_skip_locked(
        select(model.id).where(_due(model, now)).order_by(model.next_attempt_at, model.id).limit(limit)
    )).all()
    claimed = []
    for row_id in ids:
        result = db.session.execute(
            update(model).where(model.id == row_id, _due(model, now))
            .values(state="sending", claimed_until=now + LEASE, attempts=model.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(row_id)
    db.session.commit()
    return claimed


def retry_delay(attempts: int, app=None) -> float:
    base = float((app or current_app).config.get("NOTIFY_RETRY_BASE", DEFAULT_RETRY_BASE))
    return min(MAX_DELAY, base * 2 ** max(0, attempts - 1))


def max_attempts(app=None) -> int:
    return int((app or current_app).config.get("NOTIFY_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))


def _outcome(model, row_id: int, ok: bool, *, status: int | None = None, error: str = "") -> str:
    """Record one try; returns ``delivered``, ``retry`` or ``failed``. Commits."""
    row = db.session.get(model, row_id)
    now = utcnow()
    if model is WebhookDelivery:
        row.last_status = status
    row.last_error = (error or "")[:500]
    row.claimed_until = None
    if ok:
        row.state = "delivered"
        if model is WebhookDelivery:
            row.delivered_at = now
        else:
            row.sent_at = now
        outcome = "delivered"
    elif row.attempts >= max_attempts():
        row.state, outcome = "failed", "failed"
    else:
        row.state, outcome = "pending", "retry"
        row.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts))
    db.session.commit()
    return outcome


def body_of(event: OutboxEvent) -> bytes:
    created = event.created_at.isoformat(timespec="seconds") + "Z"
    return json.dumps({"id": event.id, "type": event.topic, "created_at": created, "data": event.payload},
                      separators=(",", ":"), sort_keys=True).encode()


def _send_webhook(delivery_id: int) -> str:
    from . import pinned
    from .operations import resolve_url

    delivery = db.session.get(WebhookDelivery, delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    url, secret, body, topic = endpoint.url, endpoint.secret, body_of(event), event.topic
    active = endpoint.active
    db.session.commit()  # nothing stays open during the call
    if not active:
        return _outcome(WebhookDelivery, delivery_id, False, error="endpoint turned off")
    try:
        # checked again at sending time (the name may point elsewhere now), and the connection goes
        # to exactly the addresses checked: no second lookup between the check and the connection
        url, addresses = resolve_url(url)
        stamp = int(time.time())
        response = pinned.post(url, addresses, body, timeout=TIMEOUT,
                               ca_file=current_app.config.get("WEBHOOK_CA_FILE") or None, headers={
            "Content-Type": "application/json", "User-Agent": "outside-eye-webhooks/1",
            SIGNATURE_HEADER: sign(secret, stamp, body), "Webhook-Id": str(event.id), "Webhook-Event": topic,
        })
    except Exception as exc:  # refused address, DNS, connection, TLS, timeout: all retried
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.warning("webhook delivery %s to %s failed: %s", delivery_id, url, message)
        return _outcome(WebhookDelivery, delivery_id, False, error=str(message))
    ok = 200 <= response.status < 300
    return _outcome(WebhookDelivery, delivery_id, ok, status=response.status,
                    error="" if ok else response.text[:200])


def _send_email(message_id: int) -> str:
    from . import mail

    row = db.session.get(EmailMessage, message_id)
    try:
        built = mail.build(row)
    except Exception as exc:  # a message that cannot be built is a bug: recorded, not retried forever
        db.session.rollback()
        log.exception("e-mail %s could not be built", message_id)
        return _outcome(EmailMessage, message_id, False, error=f"{type(exc).__name__}: {exc}")
    db.session.commit()
    if built is None:  # the user or the visit is gone: nothing to say
        return _outcome(EmailMessage, message_id, True, error="nothing to send")
    try:
        mail.send(built)
    except Exception as exc:  # SMTP down or refusing: tried again later
        log.warning("e-mail %s not sent: %s", message_id, exc)
        return _outcome(EmailMessage, message_id, False, error=f"{type(exc).__name__}: {exc}")
    return _outcome(EmailMessage, message_id, True)


def next_due_in() -> float | None:
    """Seconds until the next pending try (None: nothing pending)."""
    soonest = None
    for model in (WebhookDelivery, EmailMessage):
        at = db.session.scalar(select(model.next_attempt_at).where(model.state == "pending")
                               .order_by(model.next_attempt_at).limit(1))
        if at is not None and (soonest is None or at < soonest):
            soonest = at
    db.session.commit()
    return None if soonest is None else max(0.0, (soonest - utcnow()).total_seconds())


# --- who drains: RQ or a thread ------------------------------------------------------------------

_thread: threading.Thread | None = None
_thread_pid: int | None = None
_wake = threading.Event()
_lock = threading.Lock()


def thread_enabled(app) -> bool:
    return bool(app.config.get("NOTIFY_THREAD", not app.testing))


def kick(app) -> None:
    """Something was written to the outbox (or the process starts): have it drained."""
    if app.config.get("REDIS_URL"):
        try:
            _rq_queue(app).enqueue(drain_job, job_timeout=600, result_ttl=60, failure_ttl=86400)
            return
        except Exception:  # Redis down: this process drains rather than nobody
            app.logger.exception("notifications queue unavailable, draining in this process")
    if thread_enabled(app):
        ensure_thread(app)
        _wake.set()


def ensure_thread(app) -> threading.Thread:
    """Start this process's drainer once (again after a fork: gunicorn workers each get one)."""
    global _thread, _thread_pid
    with _lock:
        if _thread is None or not _thread.is_alive() or _thread_pid != os.getpid():
            _thread = threading.Thread(target=_loop, args=(app,), name="notifications", daemon=True)
            _thread_pid = os.getpid()
            _thread.start()
    return _thread


def _loop(app) -> None:
    from . import periodic

    poll = float(app.config.get("NOTIFY_POLL_SECONDS", 30))
    every = float(app.config.get("NOTIFY_TICK_SECONDS", 300))  # the periodic check; 0: never here
    last_tick = None
    while True:
        _wake.wait(timeout=poll)
        _wake.clear()
        if not thread_enabled(app):
            return  # turned off (tests)
        with app.app_context():
            try:
                if every > 0 and (last_tick is None or time.monotonic() - last_tick >= every):
                    last_tick = time.monotonic()
                    periodic.tick(app)
                drain_all()
            except Exception:
                app.logger.exception("notifications: draining the outbox failed")
                db.session.rollback()
            finally:
                db.session.remove()


def _rq_queue(app):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5))


def drain_job() -> dict[str, int]:
    """The RQ job: drain, then schedule one follow-up for the next retry (one at a time)."""
    try:
        counts = drain_all()
        wait = next_due_in()
    finally:
        db.session.remove()
    if wait is not None:
        queue = _rq_queue(current_app)
        # one scheduled follow-up at a time: the key lives until it runs
        if queue.connection.set("notifications:follow-up", "1", nx=True, ex=max(1, int(wait) + 1)):
            queue.enqueue_in(timedelta(seconds=wait + 1), drain_job, job_timeout=600, result_ttl=60)
    return counts
