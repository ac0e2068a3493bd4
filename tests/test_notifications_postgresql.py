"""The outbox on PostgreSQL: workers on their own connections share the rows with ``FOR UPDATE
SKIP LOCKED`` and a conditional UPDATE. A row locked by one worker is skipped by the other (not
waited for), no row is claimed twice, and every event reaches the receiver exactly once.

Runs on the suite's app when it is on PostgreSQL, else on a database of its own
(``test_notifications_pg``); skipped locally when PostgreSQL is not reachable, a failure in CI.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests import test_notifications as base
from tests.conftest import make_test_app, own_postgresql_database, sqlalchemy_url

receiver = base.receiver  # the webhook receiver on 127.0.0.1
EVENTS = 60


@pytest.fixture(scope="module")
def app(app):
    from audit_app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            return app
    return make_test_app(sqlalchemy_url(own_postgresql_database("test_notifications_pg")))


def _outbox_with_endpoint(app, url, n=EVENTS) -> int:
    """An agency endpoint for ``visit.released`` and ``n`` such events in the outbox."""
    from audit_app.accounts import operations as accounts
    from audit_app.extensions import db
    from audit_app.notifications.models import WebhookEndpoint
    from audit_app.notifications.operations import record

    with app.app_context():
        client = accounts.create_client("Outbox Client")
        db.session.add(WebhookEndpoint(url=url, events=["visit.released"], secret="whsec_pg", active=True,
                                       agency=True))
        for i in range(n):
            record("visit.released", client.id, {"visit_id": i + 1, "client_id": client.id})
        db.session.commit()
        return client.id


def _in_threads(app, work, n=2):
    """Run ``work()`` in ``n`` threads, each in its own app context (its own session and connection),
    released together; their results (or exceptions) in order."""
    from audit_app.extensions import db

    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait()
                results[i] = work()
            except Exception as exc:  # noqa: BLE001 - reported by the assertions
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_two_workers_deliver_every_event_exactly_once(app, receiver):
    from audit_app.extensions import db
    from audit_app.notifications import delivery
    from audit_app.notifications.models import OutboxEvent, WebhookDelivery

    _outbox_with_endpoint(app, receiver.url)
    claimed: dict[int, list[int]] = {0: [], 1: []}
    real_claim = delivery._claim
    names = {}

    def recording_claim(model, limit):
        ids = real_claim(model, limit)
        if model is WebhookDelivery:
            claimed[names[threading.get_ident()]].extend(ids)
        return ids

    def worker():
        names.setdefault(threading.get_ident(), len(names))
        total = Counter()
        for _ in range(EVENTS):  # small batches, so the two workers interleave
            counts = delivery.drain(limit=3)
            total.update(counts)
            if not any(counts.values()):
                break
        return total

    delivery._claim = recording_claim
    try:
        results = _in_threads(app, worker)
    finally:
        delivery._claim = real_claim
    assert not any(isinstance(r, Exception) for r in results), results
    # fan-out: each event dispatched once, one delivery per event
    assert sum(r["dispatched"] for r in results) == EVENTS
    # claims: no delivery claimed by both workers, none twice by one
    both = claimed[0] + claimed[1]
    assert len(both) == len(set(both)) == EVENTS
    assert claimed[0] and claimed[1], "both workers took a share"
    # the receiver: every event exactly once
    got = Counter(json.loads(r["body"])["id"] for r in receiver.requests)
    assert len(got) == EVENTS and set(got.values()) == {1}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == EVENTS
        assert set(db.session.execute(select(WebhookDelivery.state, WebhookDelivery.attempts)).all()) == {
            ("delivered", 1)}
        assert db.session.scalar(select(func.count()).where(OutboxEvent.dispatched_at.is_(None))) == 0


def test_a_row_locked_by_one_worker_is_skipped_not_waited_for(app, receiver):
    """Worker A holds its candidate rows locked (its transaction still open); worker B claims at the
    same moment, gets the other rows at once, and none of A's."""
    from sqlalchemy import text

    from audit_app.core.models import utcnow
    from audit_app.extensions import db
    from audit_app.notifications import delivery
    from audit_app.notifications.models import WebhookDelivery

    _outbox_with_endpoint(app, receiver.url, n=10)
    with app.app_context():
        assert delivery.fan_out() == 10
        db.session.remove()

    locked = threading.Event()
    release = threading.Event()
    held: list[int] = []

    def worker_a():
        stmt = delivery._skip_locked(select(WebhookDelivery.id).where(delivery._due(WebhookDelivery, utcnow()))
                                     .order_by(WebhookDelivery.id).limit(4))
        held.extend(db.session.scalars(stmt).all())
        locked.set()
        release.wait(30)
        db.session.rollback()

    def worker_b():
        locked.wait(30)
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))  # waiting on A's lock would fail here
        started = time.monotonic()
        ids = delivery._claim(WebhookDelivery, 100)
        took = time.monotonic() - started
        release.set()
        return ids, took

    a, b = _in_threads_separately(app, worker_a, worker_b)
    assert not isinstance(b, Exception), b
    ids, took = b
    assert len(held) == 4
    assert set(ids).isdisjoint(held) and len(ids) == 6
    assert took < 5
    with app.app_context():
        states = dict(db.session.execute(select(WebhookDelivery.id, WebhookDelivery.state)).all())
    assert {states[i] for i in held} == {"pending"} and {states[i] for i in ids} == {"sending"}


def _in_threads_separately(app, *calls):
    from audit_app.extensions import db

    results: list = [None] * len(calls)

    def run(i, call):
        with app.app_context():
            try:
                results[i] = call()
            except Exception as exc:  # noqa: BLE001
                results[i] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_periodic_checks_at_once_write_each_notice_once(app):
    """Two processes' checks at the same moment (cron and a delivery thread): each visit due
    tomorrow gets one ``visit.due`` event, whichever check wrote it."""
    from datetime import date, timedelta

    from audit_app.accounts import operations as accounts
    from audit_app.extensions import db
    from audit_app.notifications import periodic
    from audit_app.notifications.models import NotificationMark, OutboxEvent
    from tests import factories
    from tests.conftest import PASSWORD

    visits = 15
    with app.app_context():
        client = accounts.create_client("Tick Client")
        evaluator = accounts.create_user(email="tick-eva@t.example", name="Eva", role="evaluator", password=PASSWORD)
        version = factories.make_version()
        for _ in range(visits):
            visit = factories.make_visit(client, evaluator, version)
            visit.due_to = date.today() + timedelta(days=1)
        db.session.commit()

    results = _in_threads(app, lambda: periodic.tick(app)["due"])
    assert not any(isinstance(r, Exception) for r in results), results
    assert sum(results) == visits
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(OutboxEvent.topic == "visit.due")) == visits
        assert db.session.scalar(select(func.count()).select_from(NotificationMark)) == visits
        payloads = db.session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == "visit.due")).all()
        assert len({p["visit_id"] for p in payloads}) == visits
