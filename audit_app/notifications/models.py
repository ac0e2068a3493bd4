"""The outbox, webhook endpoints and their deliveries, e-mail messages and e-mail opt-outs."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.models import db, utcnow

#: events a webhook may subscribe to; ``visit.submitted`` is the agency's own (admins only)
WEBHOOK_EVENTS = ("visit.released", "visit.submitted", "report.ready", "action.created", "action.overdue",
                  "action.verified")
#: events a client manager's endpoint may subscribe to (its own organisation's)
CLIENT_EVENTS = ("visit.released", "report.ready", "action.created", "action.overdue", "action.verified")
EVENT_LABELS = {
    "visit.released": _l("Results of a visit released"),
    "visit.submitted": _l("A visit submitted for review"),
    "report.ready": _l("A PDF report ready"),
    "action.created": _l("A corrective action created"),
    "action.overdue": _l("A corrective action past its due date"),
    "action.verified": _l("A corrective action verified by a visit"),
}
#: e-mail categories a user may turn off, and who gets them (a role, or ``manager``: a client's manager)
EMAIL_CATEGORIES = {
    "assignment": ("evaluator",),
    "returned": ("evaluator",),
    "due": ("evaluator",),
    "released": ("client",),
    "overdue": ("manager",),
}
EMAIL_LABELS = {
    "assignment": _l("A new visit is assigned to me"),
    "returned": _l("My visit is returned for changes"),
    "due": _l("My visit is due tomorrow"),
    "released": _l("Results of a visit are released"),
    "overdue": _l("A corrective action is past its due date"),
}
#: how a client user gets "results released": one e-mail each, or one a day
RELEASED_MODES = ("each", "daily")
#: delivery states of a webhook delivery or an e-mail; ``held`` waits for the daily digest and
#: becomes ``digested`` when the digest is written
STATES = ("pending", "sending", "delivered", "failed", "held", "digested")
#: states after which nothing more happens to a row (pruned once old enough)
FINISHED = ("delivered", "failed", "digested")


class OutboxEvent(db.Model):
    """One event, written in the transaction of the change; fanned out once (``dispatched_at``)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


class WebhookEndpoint(db.Model):
    """An HTTPS endpoint that receives events. ``agency`` endpoints are the admins' (every event,
    every client or one); the others belong to one client and its managers (its own events)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    agency: Mapped[bool] = mapped_column(default=False, server_default=false())
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    client = relationship("Client")

    def visible_to(self, user) -> bool:
        if user.is_admin:
            return True
        return bool(user.is_manager and not self.agency and self.client_id == user.client_id)


class WebhookDelivery(db.Model):
    """One event to one endpoint: its attempts, the last answer and when to try again."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()
    event: Mapped[OutboxEvent] = relationship()

    def visible_to(self, user) -> bool:
        return self.endpoint is not None and self.endpoint.visible_to(user)


class EmailMessage(db.Model):
    """One e-mail of one event to one user, sent (and retried) from the outbox."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    event: Mapped[OutboxEvent] = relationship()
    user = relationship("User")


class EmailOptOut(db.Model):
    """A category of e-mail a user has turned off."""

    __tablename__ = "email_opt_outs"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)


class EmailPreference(db.Model):
    """A user's choices beyond the opt-outs: results released one by one or as a daily digest."""

    __tablename__ = "email_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    released_digest: Mapped[bool] = mapped_column(default=False, server_default=false())


class NotificationMark(db.Model):
    """A notice the periodic check has written to the outbox (``overdue:<action>:<due day>``,
    ``due:<visit>:<due day>``): its primary key makes each one happen once, even with two checks
    running at the same time."""

    __tablename__ = "notification_marks"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


STATE_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Sending"),
    "delivered": _l("Delivered"),
    "failed": _l("Failed"),
    "held": _l("Waiting for the daily digest"),
    "digested": _l("Sent in the daily digest"),
}
