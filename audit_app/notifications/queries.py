"""Reads of notifications: the endpoints a user may see and an endpoint's delivery log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.models import db
from .models import WebhookDelivery, WebhookEndpoint

LOG_SIZE = 50


def endpoints_for(user) -> list[WebhookEndpoint]:
    stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if not user.is_admin:
        stmt = stmt.where(WebhookEndpoint.agency.is_(False), WebhookEndpoint.client_id == user.client_id)
    return list(db.session.scalars(stmt))


def delivery_log(endpoint: WebhookEndpoint, limit: int = LOG_SIZE) -> list[WebhookDelivery]:
    return list(db.session.scalars(
        select(WebhookDelivery).options(joinedload(WebhookDelivery.event))
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)
    ))
