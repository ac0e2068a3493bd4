"""The periodic check: notices that come from the passing of time, and pruning.

``tick()`` (``flask notifications tick`` from cron, or the delivery thread every
``NOTIFY_TICK_SECONDS``) writes to the outbox, like any change would:

- ``action.overdue`` for each corrective action past its due day and not done (webhooks of the
  client's managers and the admins; e-mail to the client's managers), once per action and due day;
- ``visit.due`` for each visit whose window ends tomorrow and that is still the evaluator's to do
  (an e-mail to the evaluator), once per visit and due day;
- ``digest.released``: once the UTC day has turned (and it is ``NOTIFY_DIGEST_HOUR`` UTC or
  later), the "results released" e-mails held for users who chose the daily digest become one
  digest per user;
- pruning: outbox events dispatched more than ``NOTIFY_RETENTION_DAYS`` days ago whose deliveries
  and e-mails are all finished are deleted with their delivery log.

"Once" is a ``NotificationMark`` row written in the same transaction as the event: its primary key
refuses a second one, so two checks running at the same time (two processes, cron and a thread)
still write each notice once. Each notice is its own transaction; the check owns its commits.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from ..core.models import db, utcnow
from ..improvement.models import CorrectiveAction
from ..visits.models import EDITABLE, Visit
from .models import FINISHED, EmailMessage, NotificationMark, OutboxEvent, WebhookDelivery
from .operations import action_payload, record

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30
DEFAULT_DIGEST_HOUR = 6  # UTC
#: an action overdue for longer than this when the check first sees it is old news (an upgrade,
#: imported history): no notice
DEFAULT_OVERDUE_LOOKBACK_DAYS = 14


def _setting(name: str, default: int, app=None) -> int:
    value = (app or current_app).config.get(name)
    return default if value in (None, "") else int(value)


def tick(app=None, *, today: date | None = None, now: datetime | None = None) -> dict[str, int]:
    """One periodic pass (an app context; owns its commits). Returns counts."""
    today = today or date.today()
    now = now or utcnow()
    counts = {"overdue": write_overdue(today), "due": write_due_tomorrow(today),
              "digests": write_digests(now), "pruned": prune(now)}
    if any(counts.values()):
        log.info("notifications tick: %s", counts)
    return counts


def _once(key: str, topic: str, client_id: int | None, payload: dict) -> bool:
    """Write the mark and the event in one transaction; False when the mark already exists."""
    if db.session.get(NotificationMark, key) is not None:
        db.session.rollback()
        return False
    db.session.add(NotificationMark(key=key, created_at=utcnow()))
    record(topic, client_id, payload)
    try:
        db.session.commit()
    except IntegrityError:  # another check wrote it meanwhile
        db.session.rollback()
        return False
    return True


def _marked(keys: list[str]) -> set[str]:
    """Those of ``keys`` already written (one read for a pass instead of one per candidate;
    ``_once`` still checks, for a check running at the same time)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        found.update(db.session.scalars(select(NotificationMark.key).where(
            NotificationMark.key.in_(keys[start:start + 500]))))
    return found


def write_overdue(today: date) -> int:
    since = today - timedelta(days=_setting("NOTIFY_OVERDUE_LOOKBACK_DAYS", DEFAULT_OVERDUE_LOOKBACK_DAYS))
    rows = db.session.execute(select(CorrectiveAction.id, CorrectiveAction.due_on).where(
        CorrectiveAction.status.not_in(("done", "verified")), CorrectiveAction.due_on < today,
        CorrectiveAction.due_on >= since,
    ).order_by(CorrectiveAction.id)).all()
    done = _marked([f"overdue:{action_id}:{due_on.isoformat()}" for action_id, due_on in rows])
    db.session.rollback()
    written = 0
    for action_id, due_on in rows:
        key = f"overdue:{action_id}:{due_on.isoformat()}"
        if key in done:
            continue
        action = db.session.get(CorrectiveAction, action_id)
        if action is None or action.status in ("done", "verified"):
            db.session.rollback()
            continue
        payload = {**action_payload(action), "days_overdue": (today - due_on).days}
        written += _once(key, "action.overdue", action.client_id, payload)
    return written


def write_due_tomorrow(today: date) -> int:
    tomorrow = today + timedelta(days=1)
    rows = db.session.execute(select(Visit.id, Visit.client_id, Visit.evaluator_id).where(
        Visit.due_to == tomorrow, Visit.status.in_(EDITABLE), Visit.evaluator_id.is_not(None),
    ).order_by(Visit.id)).all()
    done = _marked([f"due:{visit_id}:{tomorrow.isoformat()}" for visit_id, _client, _evaluator in rows])
    db.session.rollback()
    written = 0
    for visit_id, client_id, evaluator_id in rows:
        key = f"due:{visit_id}:{tomorrow.isoformat()}"
        if key in done:
            continue
        payload = {"visit_id": visit_id, "client_id": client_id, "evaluator_id": evaluator_id,
                   "due_to": tomorrow.isoformat()}
        written += _once(key, "visit.due", client_id, payload)
    return written


def write_digests(now: datetime) -> int:
    """One ``digest.released`` per user with held "results released" e-mails from before today
    (UTC); the held rows become ``digested`` in the same transaction, claimed with a conditional
    UPDATE so two checks never put the same release into two digests."""
    if now.hour < _setting("NOTIFY_DIGEST_HOUR", DEFAULT_DIGEST_HOUR):
        return 0
    day_start = datetime.combine(now.date(), time())
    rows = db.session.execute(select(EmailMessage.id, EmailMessage.user_id, OutboxEvent.client_id,
                                     OutboxEvent.payload, OutboxEvent.created_at)
                              .join(OutboxEvent, OutboxEvent.id == EmailMessage.event_id)
                              .where(EmailMessage.state == "held", EmailMessage.created_at < day_start)
                              .order_by(EmailMessage.user_id, EmailMessage.id)).all()
    db.session.rollback()
    by_user: dict[int, list] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    written = 0
    for user_id, held in by_user.items():
        taken = [r for r in held if db.session.execute(
            update(EmailMessage).where(EmailMessage.id == r.id, EmailMessage.state == "held")
            .values(state="digested", sent_at=now).execution_options(synchronize_session=False)
        ).rowcount == 1]
        if not taken:
            db.session.rollback()
            continue
        days = sorted({r.created_at.date().isoformat() for r in taken})
        record("digest.released", taken[0].client_id, {
            "user_id": user_id, "client_id": taken[0].client_id, "from": days[0], "to": days[-1],
            "visit_ids": [r.payload.get("visit_id") for r in taken], "message_ids": [r.id for r in taken]})
        db.session.commit()
        written += 1
    return written


def prune(now: datetime | None = None) -> int:
    """Delete outbox events dispatched before the retention period whose deliveries and e-mails
    are all finished, with those deliveries and e-mails, and old marks of visits due. Returns the
    number of events deleted."""
    now = now or utcnow()
    cutoff = now - timedelta(days=_setting("NOTIFY_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))
    unfinished = (exists().where(WebhookDelivery.event_id == OutboxEvent.id, WebhookDelivery.state.not_in(FINISHED))
                  | exists().where(EmailMessage.event_id == OutboxEvent.id, EmailMessage.state.not_in(FINISHED)))
    old = select(OutboxEvent.id).where(OutboxEvent.dispatched_at.is_not(None), OutboxEvent.dispatched_at < cutoff,
                                       ~unfinished)
    ids = list(db.session.scalars(old.order_by(OutboxEvent.id).limit(5000)))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.event_id.in_(chunk)))
        db.session.execute(delete(EmailMessage).where(EmailMessage.event_id.in_(chunk)))
        db.session.execute(delete(OutboxEvent).where(OutboxEvent.id.in_(chunk)))
    # a visit's "due tomorrow" mark is useless once its day is long past; an action's overdue mark
    # stays (the action may stay overdue for good)
    db.session.execute(delete(NotificationMark).where(NotificationMark.key.like("due:%"),
                                                      NotificationMark.created_at < cutoff))
    db.session.commit()
    return len(ids)
