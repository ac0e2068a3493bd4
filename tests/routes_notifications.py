"""Access table of the notifications package's routes (merged into tests/test_access_map.py).

Webhooks are the admins' and the client managers' (client A's user is made a manager here; the
user of client B is not one: 403). Another client's endpoint is 404 to a manager.
"""

from __future__ import annotations

from audit_app.core.access import AUTHENTICATED
from audit_app.extensions import db

ADMIN_CLIENT = {"admin", "client"}
MANAGERS = {"other_client": 403}


def _manager(world):
    def make():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["client_user"]).manager = True
        db.session.commit()
        return True

    world.once("notifications.manager", make)
    return {}


def _endpoint(world, name="notifications.endpoint"):
    _manager(world)

    def make():
        from audit_app.notifications.models import WebhookEndpoint

        endpoint = WebhookEndpoint(client_id=world.ids["client_a"], agency=False, url="https://hooks.example/a",
                                   secret="whsec_test", events=["visit.released"], active=True)
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id

    return {"endpoint_id": world.once(name, make)}


def _delivery(world):
    endpoint_id = _endpoint(world)["endpoint_id"]

    def make():
        from audit_app.notifications.models import OutboxEvent, WebhookDelivery

        event = OutboxEvent(topic="visit.released", client_id=world.ids["client_a"], payload={})
        db.session.add(event)
        db.session.flush()
        row = WebhookDelivery(endpoint_id=endpoint_id, event_id=event.id, state="delivered", attempts=1)
        db.session.add(row)
        db.session.commit()
        return row.id

    return {"delivery_id": world.once("notifications.delivery", make)}


RULES = {
    # an empty POST (no CSRF token) is a 400
    "notifications.email_settings": (AUTHENTICATED, lambda w: {}),
    "notifications.webhooks": (ADMIN_CLIENT, _manager, MANAGERS),
    "notifications.webhook_new": (ADMIN_CLIENT, _manager, MANAGERS),
    "notifications.webhook": (ADMIN_CLIENT, _endpoint, MANAGERS),
    # an endpoint of its own: the admin's and the manager's POST (with the form's token) removes it
    "notifications.webhook_delete": (ADMIN_CLIENT, lambda w: _endpoint(w, "notifications.doomed"), MANAGERS),
    "notifications.redeliver": (ADMIN_CLIENT, _delivery, MANAGERS),
}
