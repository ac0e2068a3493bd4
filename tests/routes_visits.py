"""Access table of the visits package's routes (merged into tests/test_access_map.py)."""

from __future__ import annotations

from audit_app.extensions import db

from . import factories

ADMIN_ONLY = {"admin"}


def no_args(world):
    return {}


def _client(world):
    return {"client_id": world.ids["client_a"]}


def _location(world):
    def make():
        location = factories.make_location(db.session.merge(world.client_a), name="Routes branch")
        db.session.commit()
        return location.id

    return {"location_id": world.once("visits.location", make)}


def _channel(world):
    def make():
        row = factories.make_client_channel(db.session.merge(world.client_a))
        db.session.commit()
        return row.id

    return {"channel_id": world.once("visits.channel", make)}


def _visit(world):
    def make():
        version = factories.make_version()
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator), version)
        db.session.commit()
        return visit.id

    return {"visit_id": world.once("visits.visit", make)}


RULES = {
    "visits.clients": (ADMIN_ONLY, no_args),
    "visits.locations": (ADMIN_ONLY, _client),
    "visits.location_new": (ADMIN_ONLY, _client),
    "visits.location_edit": (ADMIN_ONLY, _location),
    "visits.location_deactivate": (ADMIN_ONLY, _location),
    "visits.location_import": (ADMIN_ONLY, _client),
    "visits.channels": (ADMIN_ONLY, _client),
    "visits.channel_new": (ADMIN_ONLY, _client),
    "visits.channel_edit": (ADMIN_ONLY, _channel),
    "visits.channel_deactivate": (ADMIN_ONLY, _channel),
    "visits.visits": (ADMIN_ONLY, no_args),
    "visits.bulk_action": (ADMIN_ONLY, no_args),
    "visits.visit_new": (ADMIN_ONLY, no_args),
    "visits.visit_detail": (ADMIN_ONLY, _visit),
    "visits.visit_edit": (ADMIN_ONLY, _visit),
    "visits.wave_new": (ADMIN_ONLY, no_args),
    "visits.my_visits": ({"evaluator"}, no_args),
}
