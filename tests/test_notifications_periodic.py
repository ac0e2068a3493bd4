"""Notifications of corrective actions, the periodic check (overdue actions, visits due tomorrow,
the daily digest of released results, pruning) and webhook sending pinned to the checked address.

Webhooks go to the receiver on 127.0.0.1 and e-mail to the local SMTP server of
``tests/test_notifications.py``; the periodic check runs by hand (``periodic.tick``) or through
``flask notifications tick``.
"""

from __future__ import annotations

import json
import socket
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from audit_app.extensions import db
from audit_app.notifications import periodic
from audit_app.notifications.models import (
    EmailMessage,
    NotificationMark,
    OutboxEvent,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests import factories
from tests import test_notifications as base
from tests.test_notifications import (
    Inbox,
    Receiver,
    drain,
    events,
    free_port,
    parts,
    set_language,
    submitted_visit,
)

receiver = base.receiver  # the fixtures of the webhook receiver and the SMTP server
inbox = base.inbox

TODAY = date.today()
GOOD = {"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}


def _manager(app, world, key="client_user"):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids[key]).manager = True
        db.session.commit()


def _second_client_user(app, world, manager=False):
    with app.app_context():
        from audit_app.accounts import operations as accounts
        from audit_app.accounts.models import Client

        user = accounts.create_user(email="second@a.example", name="Second A User", role="client",
                                    client=db.session.get(Client, world.ids["client_a"]), password="x" * 12,
                                    must_change_password=False)
        user.manager = manager
        db.session.commit()
        return user.id


def _endpoint(app, user_key, world, url, events_, client_id=None):
    """An endpoint made by the operation (its address checked) as the given user."""
    with app.app_context():
        from audit_app.accounts.models import User
        from audit_app.notifications import operations

        user = db.session.get(User, world.ids[user_key])
        endpoint = operations.create_endpoint(user, url=url, events=list(events_), client_id=client_id)
        db.session.commit()
        return endpoint.id


def _action(app, world, *, due_on, client="client_a", status="open"):
    """A corrective action on a failed question of an approved visit; returns (action id, visit id)."""
    with app.app_context():
        from audit_app.accounts.models import Client, User
        from audit_app.checklists.models import Question
        from audit_app.improvement import operations

        client_row = db.session.get(Client, world.ids[client])
        owner_key = "client_user" if client == "client_a" else "other_client_user"
        owner = db.session.get(User, world.ids[owner_key])
        version = factories.make_version()
        location = factories.make_location(client_row)
        visit = factories.make_scored_visit(client_row, db.session.get(User, world.ids["evaluator"]), version,
                                            location=location)
        question = db.session.scalar(select(Question).where(Question.version_id == version.id, Question.key == "q4"))
        action = operations.create_action(client_row.id, owner, question=question, what="Ask for identity first",
                                          owner=owner, due_on=due_on, visit=visit)
        if status != "open":
            operations.move_action(action, owner, status)
        db.session.commit()
        return action.id, visit.id


def tick(app, **kw):
    with app.app_context():
        try:
            return periodic.tick(app, **kw)
        finally:
            db.session.remove()


def received(receiver_):
    return [(r["headers"]["Webhook-Event"], json.loads(r["body"])["data"]) for r in receiver_.requests]


# --- 1. corrective actions: created, verified, overdue --------------------------------------------------


def test_action_created_and_verified_reach_the_clients_and_the_admins_webhooks(app, world, receiver):
    _manager(app, world)
    other = Receiver()
    try:
        action_events = ("action.created", "action.overdue", "action.verified")
        _endpoint(app, "client_user", world, receiver.url, action_events)
        _manager(app, world, "other_client_user")
        _endpoint(app, "other_client_user", world, other.url, action_events)
        admin_receiver = Receiver()
        _endpoint(app, "admin", world, admin_receiver.url, action_events)

        action_id, _visit_id = _action(app, world, due_on=TODAY + timedelta(days=7))
        [(topic, client_id, payload)] = [e for e in events(app) if e[0].startswith("action.")]
        assert (topic, client_id) == ("action.created", world.ids["client_a"])
        assert payload["action_id"] == action_id and payload["status"] == "open"
        assert payload["due_on"] == (TODAY + timedelta(days=7)).isoformat() and payload["question_key"] == "q4"

        # done by the client, then verified by a later approved visit of the same place
        with app.app_context():
            from audit_app.accounts.models import Client, User
            from audit_app.improvement import operations
            from audit_app.improvement.models import CorrectiveAction
            from audit_app.submissions.operations import approve_visit

            action = db.session.get(CorrectiveAction, action_id)
            operations.move_action(action, db.session.get(User, world.ids["client_user"]), "done")
            db.session.commit()
            assert [e[0] for e in events(app) if e[0].startswith("action.")] == ["action.created"]  # done: no event
            later = factories.make_scored_visit(db.session.get(Client, action.client_id), db.session.get(User, world.ids["evaluator"]),
                                                action.visit.checklist_version, answers=GOOD, status="submitted",
                                                location=action.location)
            approve_visit(later, db.session.get(User, world.ids["admin"]))
            db.session.commit()
            later_id = later.id
        verified = [p for t, _c, p in events(app, "action.verified")]
        assert verified == [{**verified[0], "action_id": action_id, "status": "verified",
                             "verified_by_visit_id": later_id}]

        drain(app)
        assert [t for t, _d in received(receiver)] == ["action.created", "action.verified"]
        assert [t for t, _d in received(admin_receiver)] == ["action.created", "action.verified"]
        assert other.requests == []  # client B's endpoint hears nothing of client A
    finally:
        other.close()
        admin_receiver.close()


def test_a_failed_write_writes_no_action_event(app, world):
    with app.app_context():
        from audit_app.accounts.models import User
        from audit_app.core.errors import DomainError
        from audit_app.improvement import operations

        owner = db.session.get(User, world.ids["client_user"])
        version = factories.make_version()
        with pytest.raises(DomainError):
            operations.create_action(world.ids["client_a"], owner, question=version.questions()[0], what=" ",
                                     owner=owner, due_on=TODAY)
        db.session.rollback()
    assert events(app, "action.created") == []


def test_overdue_is_written_once_per_action_and_due_day(app, world, receiver):
    _manager(app, world)
    _endpoint(app, "client_user", world, receiver.url, ("action.overdue",))
    late, _ = _action(app, world, due_on=TODAY - timedelta(days=1))
    _action(app, world, due_on=TODAY - timedelta(days=1), status="done")  # done: not overdue
    due_today, _ = _action(app, world, due_on=TODAY)  # due today: not yet overdue
    _action(app, world, due_on=TODAY - timedelta(days=60))  # old news when first seen
    other_late, _ = _action(app, world, due_on=TODAY - timedelta(days=2), client="client_b")

    assert tick(app)["overdue"] == 2
    assert tick(app)["overdue"] == 0  # once
    overdue = events(app, "action.overdue")
    assert sorted((p["action_id"], c) for _t, c, p in overdue) == sorted(
        [(late, world.ids["client_a"]), (other_late, world.ids["client_b"])])
    assert {p["action_id"]: p["days_overdue"] for _t, _c, p in overdue} == {late: 1, other_late: 2}
    drain(app)
    assert [(t, d["action_id"]) for t, d in received(receiver)] == [("action.overdue", late)]

    # a new due day that passes again is a new notice
    with app.app_context():
        from audit_app.improvement.models import CorrectiveAction

        db.session.get(CorrectiveAction, late).due_on = TODAY
        db.session.commit()
    assert tick(app, today=TODAY + timedelta(days=1))["overdue"] == 2  # and the one due today is late now
    assert sorted(p["action_id"] for _t, _c, p in events(app, "action.overdue")[2:]) == sorted([late, due_today])


def test_two_checks_at_once_write_one_notice(app, world):
    """The mark's primary key: a check that finds the mark written by another writes nothing."""
    late, _ = _action(app, world, due_on=TODAY - timedelta(days=1))
    with app.app_context():
        key = f"overdue:{late}:{(TODAY - timedelta(days=1)).isoformat()}"
        assert periodic._once(key, "action.overdue", world.ids["client_a"], {"action_id": late}) is True
        assert periodic._once(key, "action.overdue", world.ids["client_a"], {"action_id": late}) is False
        db.session.add(NotificationMark(key="due:1:x"))  # a mark another process inserts in between
        db.session.commit()
    assert tick(app)["overdue"] == 0
    assert len(events(app, "action.overdue")) == 1


@pytest.mark.parametrize("language, subject, line", [
    ("fi", "Korjaava toimenpide on myöhässä: Ask for identity first",
     "Korjaavan toimenpiteen määräpäivä on mennyt, eikä sitä ole vielä tehty."),
    ("en", "A corrective action is overdue: Ask for identity first",
     "A corrective action has passed its due date and is not done yet."),
])
def test_overdue_mail_goes_to_the_clients_managers(app, world, inbox, language, subject, line):
    _manager(app, world)
    _second_client_user(app, world, manager=False)  # not a manager: no mail
    set_language(app, world.ids["client_user"], language)
    action_id, _ = _action(app, world, due_on=TODAY - timedelta(days=3))
    tick(app)
    drain(app)
    [message] = inbox.messages
    assert message["To"] == "client@a.example" and message["Subject"] == subject
    assert message["Content-Language"] == language
    text, html = parts(message)
    assert line in text and line in html and "Client A User" in text
    assert f"/actions/{action_id}" in text and f'href="http://localhost:5000/actions/{action_id}"' in html


def test_overdue_mail_can_be_turned_off(app, world, inbox, login_as):
    _manager(app, world)
    client = login_as("client")
    page = client.get("/account").get_data(as_text=True)
    assert 'value="overdue"' in page and 'value="due"' not in page
    assert client.post("/account/email-settings", {"categories": ["released"], "released_mode": "each"}).status_code == 302
    _action(app, world, due_on=TODAY - timedelta(days=1))
    tick(app)
    drain(app)
    assert inbox.messages == []
    assert len(events(app, "action.overdue")) == 1  # the webhook event is still written


# --- 2. visits due tomorrow -----------------------------------------------------------------------------


def _visit_due(app, world, due_to, status="assigned", evaluator="evaluator"):
    with app.app_context():
        from audit_app.accounts.models import Client, User

        client = db.session.get(Client, world.ids["client_a"])
        visit = factories.make_visit(client, db.session.get(User, world.ids[evaluator]), factories.make_version(),
                                     location=factories.make_location(client), status=status)
        visit.due_to = due_to
        db.session.commit()
        return visit.id


@pytest.mark.parametrize("language, subject, line", [
    ("fi", "Käyntisi määräaika on huomenna: Central branch · Puhelin", "Käyntisi määräaika on huomenna."),
    ("en", "Your visit is due tomorrow: Central branch · Phone", "Your visit is due tomorrow."),
])
def test_due_tomorrow_mail_once_per_visit(app, world, inbox, language, subject, line):
    set_language(app, world.ids["evaluator"], language)
    due = _visit_due(app, world, TODAY + timedelta(days=1))
    _visit_due(app, world, TODAY + timedelta(days=2))
    _visit_due(app, world, TODAY + timedelta(days=1), status="submitted")  # done already
    drain(app)
    inbox.messages.clear()  # the assignment mails
    assert tick(app)["due"] == 1 and tick(app)["due"] == 0
    [(_t, _c, payload)] = events(app, "visit.due")
    assert payload["visit_id"] == due and payload["due_to"] == (TODAY + timedelta(days=1)).isoformat()
    drain(app)
    [message] = inbox.messages
    assert message["To"] == "eva@t.example" and message["Subject"] == subject
    text, html = parts(message)
    assert line in text and line in html and "http://localhost:5000/my/visits" in text


def test_due_tomorrow_respects_the_opt_out_and_later_changes(app, world, inbox, login_as):
    evaluator = login_as("evaluator")
    assert evaluator.post("/account/email-settings", {"categories": ["assignment", "returned"]}).status_code == 302
    _visit_due(app, world, TODAY + timedelta(days=1))
    tick(app)
    drain(app)
    assert [m["Subject"] for m in inbox.messages if "huomenna" in m["Subject"]] == []
    # turned on again; a visit started since the notice still gets it, one cancelled meanwhile does not
    assert evaluator.post("/account/email-settings", {"categories": ["due"]}).status_code == 302
    gone = _visit_due(app, world, TODAY + timedelta(days=1), evaluator="evaluator")
    tick(app)
    with app.app_context():
        from audit_app.visits.models import Visit

        db.session.get(Visit, gone).status = "cancelled"
        db.session.commit()
    inbox.messages.clear()
    drain(app)
    assert inbox.messages == []
    with app.app_context():
        rows = db.session.scalars(select(EmailMessage).where(EmailMessage.category == "due")).all()
        assert [(r.state, r.last_error) for r in rows] == [("delivered", "nothing to send")]


# --- 3. results released: each, or a daily digest -------------------------------------------------------


def _approve(admin, app, world, **kw):
    vid = submitted_visit(app, world, **kw)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    return vid


def _yesterday(app):
    """The held e-mails were made yesterday (time passes)."""
    with app.app_context():
        for row in db.session.scalars(select(EmailMessage).where(EmailMessage.state == "held")):
            row.created_at -= timedelta(days=1)
        db.session.commit()


def _digest_day_moment(hour=8):
    return datetime.combine(TODAY, time(hour))


@pytest.mark.parametrize("language, subject, line", [
    ("fi", "2 uuden käynnin tulokset", "Nämä tulokset julkaistiin yritykselle Client A edellisen koosteen jälkeen."),
    ("en", "Results of 2 new visits", "These results were released for Client A since the last summary."),
])
def test_daily_digest_groups_the_days_releases(app, world, inbox, login_as, language, subject, line):
    set_language(app, world.ids["client_user"], language)
    _second_client_user(app, world)
    client = login_as("client")
    page = client.get("/account").get_data(as_text=True)
    assert 'name="released_mode"' in page and _checked_mode(page) == "each"
    assert client.post("/account/email-settings",
                       {"categories": ["released"], "released_mode": "daily"}).status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert _checked_mode(page) == "daily"

    admin = login_as("admin")
    first, second = _approve(admin, app, world), _approve(admin, app, world)
    drain(app)
    # the other user takes each release at once; the digest user gets nothing yet
    assert sorted(m["To"] for m in inbox.messages) == ["second@a.example", "second@a.example"]
    with app.app_context():
        held = db.session.scalars(select(EmailMessage.state).where(EmailMessage.user_id == world.ids["client_user"]))
        assert list(held) == ["held", "held"]
    inbox.messages.clear()
    assert tick(app, now=_digest_day_moment(23))["digests"] == 0  # today's releases wait for the day to end
    _yesterday(app)
    assert tick(app, now=_digest_day_moment(3))["digests"] == 0  # before NOTIFY_DIGEST_HOUR (06 UTC)
    assert tick(app, now=_digest_day_moment(8))["digests"] == 1
    assert tick(app, now=_digest_day_moment(9))["digests"] == 0  # once
    drain(app)
    [message] = inbox.messages
    assert message["To"] == "client@a.example" and message["Subject"] == subject
    text, html = parts(message)
    assert line in text and line in html
    for vid in (first, second):
        assert f"http://localhost:5000/reports/visits/{vid}" in text and f"/reports/visits/{vid}\"" in html
    with app.app_context():
        states = db.session.scalars(select(EmailMessage.state).where(
            EmailMessage.user_id == world.ids["client_user"]).order_by(EmailMessage.id))
        assert list(states) == ["digested", "digested", "delivered"]


def _checked_mode(page: str) -> str | None:
    import re

    for tag in re.findall(r"<input[^>]*name=\"released_mode\"[^>]*>", page):
        if "checked" in tag:
            return re.search(r'value="([a-z]+)"', tag).group(1)
    return None


def test_digest_choice_is_only_for_users_who_get_releases(app, world, login_as):
    evaluator = login_as("evaluator")
    assert 'name="released_mode"' not in evaluator.get("/account").get_data(as_text=True)
    assert evaluator.post("/account/email-settings", {"categories": ["due"], "released_mode": "daily"}).status_code == 302
    client = login_as("client")
    assert _checked_mode(client.get("/account").get_data(as_text=True)) == "each"
    assert client.post("/account/email-settings", {"categories": ["released"], "released_mode": "weekly"}).status_code == 302
    assert _checked_mode(client.get("/account").get_data(as_text=True)) == "each"  # nonsense ignored
    with app.app_context():
        from audit_app.notifications.operations import released_digest

        assert not released_digest(world.ids["evaluator"]) and not released_digest(world.ids["client_user"])


# --- 4. pruning --------------------------------------------------------------------------------------------


def test_prune_deletes_old_finished_rows_with_their_log(app, world, login_as, receiver, inbox, monkeypatch):
    admin = login_as("admin")
    _endpoint(app, "admin", world, receiver.url, ("visit.released",))
    old, kept_pending, recent = (_approve(admin, app, world) for _ in range(3))
    receiver.script = [200, 200, 500]  # the third delivery (of "recent"... ordering below) fails once
    drain(app)
    with app.app_context():
        ids = {e.payload["visit_id"]: e.id for e in db.session.scalars(select(OutboxEvent).where(
            OutboxEvent.topic == "visit.released"))}
        long_ago = datetime.now() - timedelta(days=40)
        db.session.execute(update(OutboxEvent).where(OutboxEvent.id.in_([ids[old], ids[kept_pending]]))
                           .values(dispatched_at=long_ago, created_at=long_ago))
        # the second old event still has a delivery waiting: it stays
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.event_id == ids[kept_pending])
                           .values(state="pending"))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 3
    result = app.test_cli_runner().invoke(args=["notifications", "prune"])
    assert result.exit_code == 0 and "pruned 1" in result.output, result.output
    with app.app_context():
        left = set(db.session.scalars(select(OutboxEvent.id).where(OutboxEvent.topic == "visit.released")))
        assert left == {ids[kept_pending], ids[recent]}
        assert set(db.session.scalars(select(WebhookDelivery.event_id))) == {ids[kept_pending], ids[recent]}
        assert ids[old] not in set(db.session.scalars(select(EmailMessage.event_id)))
    # a shorter retention prunes the recent one too (once finished)
    monkeypatch.setitem(app.config, "NOTIFY_RETENTION_DAYS", 0)
    with app.app_context():
        db.session.execute(update(WebhookDelivery).values(state="delivered"))
        db.session.commit()
        assert periodic.prune(datetime.now() + timedelta(seconds=5)) >= 2
        assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_flask_notifications_tick(app, world, inbox):
    _manager(app, world)
    _action(app, world, due_on=TODAY - timedelta(days=1))
    result = app.test_cli_runner().invoke(args=["notifications", "tick"])
    assert result.exit_code == 0, result.output
    assert "overdue 1" in result.output and "sent 1" in result.output
    assert [m["To"] for m in inbox.messages] == ["client@a.example"]
    again = app.test_cli_runner().invoke(args=["notifications", "tick"])
    assert "overdue 0" in again.output and len(inbox.messages) == 1


def test_the_delivery_thread_runs_the_periodic_check(app, world, receiver):
    from audit_app import create_app
    from audit_app.notifications import delivery
    from tests.helpers import wait_for

    _manager(app, world)
    _endpoint(app, "client_user", world, receiver.url, ("action.overdue",))
    _action(app, world, due_on=TODAY - timedelta(days=1))
    process = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "NOTIFY_THREAD": True, "NOTIFY_POLL_SECONDS": 0.2, "NOTIFY_TICK_SECONDS": 60,
                          "WEBHOOK_ALLOW_PRIVATE": True})
    process.test_client().get("/login")
    try:
        wait_for(lambda: receiver.requests, timeout=15)
    finally:
        thread = delivery._thread
        process.config["NOTIFY_THREAD"] = False
        delivery._wake.set()
        thread.join(timeout=10)
    assert [t for t, _d in received(receiver)] == ["action.overdue"]


# --- 5. DNS rebinding: the connection goes to the address that was checked ---------------------------------


class FakeDNS:
    """Answers for one name: ``answers[i]`` for the i-th lookup (the last one repeats); IP literals
    and other names go to the real resolver."""

    def __init__(self, monkeypatch, name, answers):
        self.name, self.answers, self.lookups = name, list(answers), 0
        real = socket.getaddrinfo

        def fake(host, port, *args, **kwargs):
            if host != self.name:
                return real(host, port, *args, **kwargs)
            answer = self.answers[min(self.lookups, len(self.answers) - 1)]
            self.lookups += 1
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port or 0))]

        monkeypatch.setattr(socket, "getaddrinfo", fake)


def _raw_endpoint(app, url, events_=("visit.released",)):
    """An agency endpoint written straight to the table (its address not checked now). A failed
    delivery is tried again an hour later (not at once, as the receiver fixture would have it)."""
    app.config["NOTIFY_RETRY_BASE"] = 3600  # the receiver fixture's monkeypatch puts it back
    with app.app_context():
        endpoint = WebhookEndpoint(url=url, events=list(events_), secret="whsec_test", active=True, agency=True)
        db.session.add(endpoint)
        db.session.commit()
        return endpoint.id


def _deliveries(app):
    with app.app_context():
        return [(d.state, d.last_status, d.last_error) for d in
                db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]


def test_delivery_connects_to_the_address_it_checked(app, world, login_as, receiver, monkeypatch):
    """The name answers 127.0.0.1 to the check, then 127.0.0.2 (where nothing listens) to anyone
    asking again: the delivery arrives, so nobody asked again; the Host header keeps the name."""
    port = receiver.server.server_port
    _raw_endpoint(app, f"http://hooks.rebind.test:{port}/hook")
    dns = FakeDNS(monkeypatch, "hooks.rebind.test", ["127.0.0.1", "127.0.0.2"])
    _approve(login_as("admin"), app, world)
    drain(app)
    assert dns.lookups == 1
    assert [(s, code) for s, code, _e in _deliveries(app)] == [("delivered", 200)]
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.rebind.test:{port}" and request["path"] == "/hook"


def test_a_name_that_turns_private_after_the_check_is_never_reached(app, world, login_as, receiver, monkeypatch):
    """Without WEBHOOK_ALLOW_PRIVATE: the name answers a public address to the check and the
    receiver's loopback address afterwards. The connection goes to the public address only."""
    import urllib3.util.connection

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    port = receiver.server.server_port
    _raw_endpoint(app, f"https://hooks.rebind.test:{port}/hook")
    dns = FakeDNS(monkeypatch, "hooks.rebind.test", ["93.184.216.34", "127.0.0.1"])
    tried = []

    def no_network(address, *args, **kwargs):
        tried.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(urllib3.util.connection, "create_connection", no_network)
    _approve(login_as("admin"), app, world)
    drain(app)
    assert tried == [("93.184.216.34", port)] and dns.lookups == 1
    assert receiver.requests == []
    [(state, status, error)] = _deliveries(app)
    assert state == "pending" and status is None and "no network" in error


def test_a_name_resolving_to_a_private_address_at_sending_time_is_refused(app, world, login_as, receiver,
                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    _raw_endpoint(app, f"https://hooks.rebind.test:{receiver.server.server_port}/hook")
    FakeDNS(monkeypatch, "hooks.rebind.test", ["127.0.0.1"])
    _approve(login_as("admin"), app, world)
    drain(app)
    assert receiver.requests == []
    [(state, _status, error)] = _deliveries(app)
    assert state == "pending" and ("private" in error or "yksityiseen" in error)


# --- HTTPS to a pinned address: SNI and the certificate are still the name's --------------------------------


def _certificates(tmp_path, name):
    """A CA and a server certificate for ``name`` signed by it (files: ca.pem, server.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now()

    def make(subject, issuer, key, issuer_key, *, ca, san=None):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
                critical=True)
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = make(ca_name, ca_name, ca_key, ca_key, ca=True)
    server = make(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]), ca_name, key, ca_key, ca=False,
                  san=name)
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(server.public_bytes(pem))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    return tmp_path


@pytest.fixture
def tls_receiver(receiver, tmp_path):
    import ssl

    folder = _certificates(tmp_path, "hooks.tls.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "key.pem")
    server_names = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    receiver.server.socket = context.wrap_socket(receiver.server.socket, server_side=True)
    receiver.server_names = server_names
    receiver.ca = str(folder / "ca.pem")
    return receiver


def test_https_to_the_pinned_address_checks_the_names_certificate(app, world, login_as, tls_receiver, monkeypatch):
    port = tls_receiver.server.server_port
    FakeDNS(monkeypatch, "hooks.tls.test", ["127.0.0.1"])
    _raw_endpoint(app, f"https://hooks.tls.test:{port}/hook")
    admin = login_as("admin")
    _approve(admin, app, world)
    drain(app)  # certifi does not know the test CA: refused
    assert tls_receiver.requests == [] and "CERTIFICATE_VERIFY_FAILED" in _deliveries(app)[0][2]
    monkeypatch.setitem(app.config, "WEBHOOK_CA_FILE", tls_receiver.ca)
    with app.app_context():
        db.session.execute(update(WebhookDelivery).values(next_attempt_at=func.now()))
        db.session.commit()
    drain(app)
    assert [s for s, _c, _e in _deliveries(app)] == ["delivered"]
    assert tls_receiver.server_names[-1] == "hooks.tls.test"  # SNI: the name, not the address
    assert tls_receiver.requests[0]["headers"]["Host"] == f"hooks.tls.test:{port}"


def test_https_certificate_of_another_name_is_refused(app, world, login_as, tls_receiver, monkeypatch):
    port = tls_receiver.server.server_port
    monkeypatch.setitem(app.config, "WEBHOOK_CA_FILE", tls_receiver.ca)
    FakeDNS(monkeypatch, "elsewhere.tls.test", ["127.0.0.1"])
    _raw_endpoint(app, f"https://elsewhere.tls.test:{port}/hook")
    _approve(login_as("admin"), app, world)
    drain(app)
    assert tls_receiver.requests == []
    [(state, _status, error)] = _deliveries(app)
    assert state == "pending" and ("hostname" in error.lower() or "CERTIFICATE_VERIFY_FAILED" in error)


def test_smtp_down_keeps_the_overdue_and_digest_mails_for_later(app, world, login_as, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 3600)
    _manager(app, world)
    with app.app_context():
        from audit_app.accounts.models import User
        from audit_app.notifications.operations import set_released_mode

        set_released_mode(db.session.get(User, world.ids["client_user"]), "daily")
        db.session.commit()
    _action(app, world, due_on=TODAY - timedelta(days=1))
    _approve(login_as("admin"), app, world)
    drain(app)
    _yesterday(app)
    tick(app, now=_digest_day_moment(8))
    counts = drain(app)
    assert counts["sent"] == 0 and counts["retry"] == 2  # the overdue mail and the digest
    with app.app_context():
        rows = db.session.scalars(select(EmailMessage).where(EmailMessage.state == "pending")).all()
        assert sorted(r.category for r in rows) == ["digest", "overdue"]
        for row in rows:
            row.next_attempt_at = row.created_at  # the hour passes
        db.session.commit()
    inbox = Inbox(port)
    try:
        assert drain(app)["sent"] == 2
    finally:
        inbox.stop()
    assert len(inbox.messages) == 2
    with app.app_context():
        assert set(db.session.scalars(select(EmailMessage.state).where(
            EmailMessage.category.in_(("digest", "overdue"))))) == {"delivered"}
