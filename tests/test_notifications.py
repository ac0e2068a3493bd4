"""Notifications: the transactional outbox, webhooks (signed, retried, redelivered) and e-mail.

Webhooks go to a receiver on 127.0.0.1 (a small http.server in a thread; ``WEBHOOK_ALLOW_PRIVATE``
lets the app send there); e-mail to a local SMTP server (aiosmtpd). Delivery is drained by hand
(``delivery.drain_all``) except where the delivery thread itself is under test.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from audit_app.extensions import db
from audit_app.notifications import delivery
from audit_app.notifications.models import EmailMessage, OutboxEvent, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.helpers import wait_for

# --- a webhook receiver ----------------------------------------------------------------------------


class Receiver:
    """Records each POST; answers with the next status of ``script`` (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                status = receiver.script.pop(0) if receiver.script else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 0)
    r = Receiver()
    yield r
    r.close()


def drain(app):
    with app.app_context():
        try:
            return delivery.drain_all()
        finally:
            db.session.remove()


def submitted_visit(app, world, client="client_a", **kw) -> int:
    with app.app_context():
        from audit_app.accounts.models import Client, User

        visit = factories.make_scored_visit(db.session.get(Client, world.ids[client]),
                                            db.session.get(User, world.ids["evaluator"]), status="submitted", **kw)
        db.session.commit()
        return visit.id


def events(app, topic=None):
    with app.app_context():
        stmt = select(OutboxEvent).order_by(OutboxEvent.id)
        if topic:
            stmt = stmt.where(OutboxEvent.topic == topic)
        rows = db.session.scalars(stmt).all()
        return [(e.topic, e.client_id, dict(e.payload)) for e in rows]


def add_endpoint(browser, url, events_=("visit.released",), client_id=""):
    data = {"url": url, "events": list(events_)}
    if client_id != "":
        data["client_id"] = str(client_id)
    return browser.post("/webhooks/new", data)


# --- 1. the outbox -----------------------------------------------------------------------------------


def test_events_are_written_with_the_change_and_only_with_it(app, world, login_as):
    admin = login_as("admin")
    vid = submitted_visit(app, world)
    assert [t for t, _c, _p in events(app)] == []  # a visit made already submitted: nobody was assigned
    # a refused approval (an unknown visit) writes nothing
    assert admin.post("/admin/visits/999999/approve").status_code == 404
    assert events(app, "visit.released") == []
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    [(topic, client_id, payload)] = events(app, "visit.released")
    assert client_id == world.ids["client_a"] and payload["visit_id"] == vid
    assert payload["score_overall"] == pytest.approx(100 / 3) and payload["critical_fail"] is True
    assert "evaluator_id" not in payload  # a client never learns who the evaluator was
    # approving twice is refused (409) and adds nothing
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 409
    assert len(events(app, "visit.released")) == 1


def test_assignment_submission_return_and_report_events(app, world, login_as):
    with app.app_context():
        from audit_app.accounts.models import Client, User

        version = factories.make_version()
        visit = factories.make_visit(db.session.get(Client, world.ids["client_a"]),
                                     db.session.get(User, world.ids["evaluator"]), version)
        db.session.commit()
        vid = visit.id
    [(_t, _c, assigned)] = events(app, "visit.assigned")
    assert assigned["visit_id"] == vid and assigned["evaluator_id"] == world.ids["evaluator"]

    evaluator, admin = login_as("evaluator"), login_as("admin")
    assert evaluator.post(f"/visits/{vid}/start").status_code == 302
    with app.app_context():
        from audit_app.submissions.operations import compute_and_store_scores
        from audit_app.visits.models import Visit

        for key, value in factories.WORKED_EXAMPLE.items():
            factories.answer(db.session.get(Visit, vid), key, value, na=value is None)
        compute_and_store_scores(db.session.get(Visit, vid))
        db.session.commit()
    assert evaluator.post(f"/visits/{vid}/submit").status_code == 302
    assert [p["visit_id"] for _t, _c, p in events(app, "visit.submitted")] == [vid]
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "Time the queue again."}).status_code == 302
    [(_t, _c, returned)] = events(app, "visit.returned")
    assert returned["comment"] == "Time the queue again." and returned["evaluator_id"] == world.ids["evaluator"]

    # a PDF report made in the request: report.ready with the same commit
    response = admin.post(f"/reports/clients/{world.ids['client_a']}/pdf/client/all", {})
    assert response.status_code in (200, 302), response.status_code
    [(_t, client_id, ready)] = events(app, "report.ready")
    assert client_id == world.ids["client_a"] and ready["report_id"]


# --- 2. webhooks -------------------------------------------------------------------------------------


def endpoint_row(app, endpoint_id=None):
    with app.app_context():
        stmt = select(WebhookEndpoint).order_by(WebhookEndpoint.id.desc())
        row = db.session.get(WebhookEndpoint, endpoint_id) if endpoint_id else db.session.scalars(stmt).first()
        db.session.expunge(row)
        return row


def deliveries(app):
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        return [(d.state, d.attempts, d.last_status) for d in rows]


def test_admin_webhook_receives_a_signed_event(app, world, login_as, receiver):
    admin = login_as("admin")
    response = add_endpoint(admin, receiver.url, ("visit.released", "visit.submitted"))
    assert response.status_code == 302, response.get_data(as_text=True)
    endpoint = endpoint_row(app)
    assert endpoint.agency and endpoint.client_id is None and endpoint.secret.startswith("whsec_")
    page = admin.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert endpoint.secret in page and receiver.url in page

    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    assert receiver.requests == []  # nothing sent inside the request: the outbox holds it
    counts = drain(app)
    assert counts["delivered"] == 1
    [request] = receiver.requests
    body, headers = request["body"], request["headers"]
    assert delivery.verify(endpoint.secret, headers["Webhook-Signature"], body)
    assert not delivery.verify("whsec_wrong", headers["Webhook-Signature"], body)
    assert not delivery.verify(endpoint.secret, headers["Webhook-Signature"], body + b" ")
    message = json.loads(body)
    assert message["type"] == "visit.released" and message["data"]["visit_id"] == vid
    assert headers["Webhook-Event"] == "visit.released" and headers["Webhook-Id"] == str(message["id"])
    assert deliveries(app) == [("delivered", 1, 200)]
    log = admin.get(f"/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "HTTP 200" in log
    assert drain(app)["delivered"] == 0  # delivered once, not again


def test_a_receiver_failing_gets_the_event_again(app, world, login_as, receiver, monkeypatch):
    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url).status_code == 302
    receiver.script = [500]
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 3600)
    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    assert drain(app)["retry"] == 1
    assert deliveries(app) == [("pending", 1, 500)]
    assert drain(app)["delivered"] == 0  # the next try waits for its backoff (an hour here)
    with app.app_context():  # time passes
        db.session.execute(WebhookDelivery.__table__.update().values(next_attempt_at=func.now()))
        db.session.commit()
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 0)
    drain(app)
    assert deliveries(app) == [("delivered", 2, 200)]
    first, second = receiver.requests
    assert first["body"] == second["body"] and first["headers"]["Webhook-Id"] == second["headers"]["Webhook-Id"]


def test_backoff_doubles_and_ends_in_failed(app, world, login_as, receiver, monkeypatch):
    with app.app_context():
        assert [delivery.retry_delay(n) for n in (1, 2, 3)] == [0, 0, 0]
        monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 60)
        assert [delivery.retry_delay(n) for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
        assert delivery.retry_delay(30) == delivery.MAX_DELAY
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 0)
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url).status_code == 302
    receiver.script = [500, 502, 503, 500]
    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    drain(app)
    assert deliveries(app) == [("failed", 3, 503)] and len(receiver.requests) == 3


def test_killed_after_the_commit_still_delivers_on_restart(app, world, login_as, receiver):
    """The approval commits its event; no delivery ran in that process (it "died"). A new app
    process on the same database drains the outbox from its own thread, started by its first request."""
    from audit_app import create_app

    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url).status_code == 302
    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    assert receiver.requests == [] and len(events(app, "visit.released")) == 1

    restarted = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                            "NOTIFY_THREAD": True, "NOTIFY_POLL_SECONDS": 0.2, "WEBHOOK_ALLOW_PRIVATE": True})
    restarted.test_client().get("/login")  # the first request starts the delivery thread
    wait_for(lambda: receiver.requests, timeout=15)
    wait_for(lambda: deliveries(app) == [("delivered", 1, 200)], timeout=10)
    assert json.loads(receiver.requests[0]["body"])["data"]["visit_id"] == vid
    thread = delivery._thread
    restarted.config["NOTIFY_THREAD"] = False
    delivery._wake.set()
    thread.join(timeout=10)
    assert not thread.is_alive()


def test_redeliver(app, world, login_as, receiver):
    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url).status_code == 302
    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    drain(app)
    with app.app_context():
        first = db.session.scalar(select(WebhookDelivery.id))
    # someone else's delivery is not for a client; a bare POST without the form's token is refused
    assert login_as("other_client").post(f"/webhooks/deliveries/{first}/redeliver").status_code == 403
    assert admin.post(f"/webhooks/deliveries/{first}/redeliver", csrf=False).status_code == 400
    response = admin.post(f"/webhooks/deliveries/{first}/redeliver")
    assert response.status_code == 302
    drain(app)
    assert deliveries(app) == [("delivered", 1, 200), ("delivered", 1, 200)]
    assert len(receiver.requests) == 2 and receiver.requests[0]["body"] == receiver.requests[1]["body"]


@pytest.mark.parametrize("url, message", [
    ("", "Enter the address of the endpoint."),
    ("ftp://example.com/x", "Enter a full address that starts with https://."),
    ("https://user:pw@example.com/x", "Leave the user name and password out of the address."),
    ("http://127.0.0.1:9/hook", "The address must start with https://."),
    ("https://127.0.0.1/hook", "The address leads to a local or private network. Use a public address."),
    ("https://10.1.2.3/hook", "The address leads to a local or private network. Use a public address."),
    ("https://169.254.169.254/latest", "The address leads to a local or private network. Use a public address."),
    ("https://[::1]/hook", "The address leads to a local or private network. Use a public address."),
    ("https://no-such-host.invalid/hook", "The server no-such-host.invalid cannot be found."),
    ("https://example.com:99999/", "Enter a full address that starts with https://."),
])
def test_endpoint_address_is_checked(app, world, login_as, url, message):
    admin = login_as("admin")
    admin.post("/language", {"language": "en"})
    response = add_endpoint(admin, url)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True).replace("&#34;", '"')
    with app.app_context():
        assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_events_must_be_chosen(app, world, login_as, receiver):
    admin = login_as("admin")
    admin.post("/language", {"language": "en"})
    response = add_endpoint(admin, receiver.url, ())
    assert response.status_code == 400 and "Choose at least one event." in response.get_data(as_text=True)


def _make_manager(app, world):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["client_user"]).manager = True
        db.session.commit()


def test_client_managers_get_their_own_organisations_events(app, world, login_as, receiver):
    client = login_as("client")
    assert client.get("/webhooks").status_code == 403  # not a manager
    _make_manager(app, world)
    client.post("/language", {"language": "en"})
    page = client.get("/webhooks/new").get_data(as_text=True)
    assert "visit.submitted" not in page
    refused = add_endpoint(client, receiver.url, ("visit.released", "visit.submitted"))
    assert refused.status_code == 400 and "Choose only the events you may receive." in refused.get_data(as_text=True)
    assert add_endpoint(client, receiver.url, ("visit.released",), client_id=world.ids["client_b"]).status_code == 302
    mine = endpoint_row(app)
    assert mine.client_id == world.ids["client_a"] and not mine.agency  # the client field is the admin's
    # an admin's endpoint is not the client's to see; the client's is the admin's to see
    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url, ("visit.submitted",)).status_code == 302
    agency = endpoint_row(app)
    assert client.get(f"/webhooks/{agency.id}").status_code == 404
    assert client.post(f"/webhooks/{agency.id}/delete").status_code == 404
    assert client.get(f"/webhooks/{mine.id}").status_code == 200
    assert admin.get(f"/webhooks/{mine.id}").status_code == 200
    assert receiver.url in client.get("/webhooks").get_data(as_text=True)

    a_visit, b_visit = submitted_visit(app, world), submitted_visit(app, world, client="client_b")
    assert admin.post(f"/admin/visits/{b_visit}/approve").status_code == 302
    assert admin.post(f"/admin/visits/{a_visit}/approve").status_code == 302
    drain(app)
    got = [(r["headers"]["Webhook-Event"], json.loads(r["body"])["data"].get("visit_id")) for r in receiver.requests]
    # the client's endpoint: only its own release; the admin's: nothing (it wants submissions only)
    assert got == [("visit.released", a_visit)]

    assert client.post(f"/webhooks/{mine.id}/delete").status_code == 302
    assert client.get(f"/webhooks/{mine.id}").status_code == 404


def test_internal_reports_do_not_reach_clients(app, world, login_as, receiver):
    _make_manager(app, world)
    client = login_as("client")
    assert add_endpoint(client, receiver.url, ("report.ready",)).status_code == 302
    admin = login_as("admin")
    vid = submitted_visit(app, world)  # not approved: a report of it is internal
    response = admin.post(f"/reports/clients/{world.ids['client_a']}/pdf/visit/{vid}", {})
    assert response.status_code in (200, 302)
    assert len(events(app, "report.ready")) == 1
    drain(app)
    assert receiver.requests == []


# --- 3. e-mail -----------------------------------------------------------------------------------------


class Inbox:
    """A local SMTP server (aiosmtpd) keeping what it receives; on ``port`` if given (a server that
    comes up on an address that was down)."""

    def __init__(self, port: int | None = None):
        from aiosmtpd.controller import Controller

        self.messages = []
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                import email
                from email import policy

                inbox.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
                return "250 OK"

        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(app, monkeypatch):
    box = Inbox()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{box.port}")
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 0)
    yield box
    box.stop()


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def set_language(app, user_id, language):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, user_id).language = language
        db.session.commit()


def assign(app, world, evaluator="evaluator"):
    with app.app_context():
        from audit_app.accounts.models import Client, User

        location = factories.make_location(db.session.get(Client, world.ids["client_a"]))
        visit = factories.make_visit(db.session.get(Client, world.ids["client_a"]),
                                     db.session.get(User, world.ids[evaluator]), factories.make_version(),
                                     location=location)
        db.session.commit()
        return visit.id


@pytest.mark.parametrize("language, subject, greeting", [
    ("fi", "Uusi käynti sinulle: Central branch · Puhelin", "Hei Eva Evaluator,"),
    ("en", "New visit for you: Central branch · Phone", "Hello Eva Evaluator,"),
])
def test_new_assignment_mail_in_the_users_language(app, world, inbox, language, subject, greeting):
    set_language(app, world.ids["evaluator"], language)
    vid = assign(app, world)
    assert drain(app)["sent"] == 1
    [message] = inbox.messages
    assert message["To"] == "eva@t.example" and message["Subject"] == subject
    assert message["Content-Language"] == language
    text, html = parts(message)
    assert greeting in text and greeting in html and "Client A" in text
    assert "http://localhost:5000/my/visits" in text and 'href="http://localhost:5000/my/visits"' in html
    assert "#email-settings" in text
    with app.app_context():
        row = db.session.scalar(select(EmailMessage))
        assert row.state == "delivered" and row.sent_at and row.event.payload["visit_id"] == vid


def test_returned_and_released_mails(app, world, login_as, inbox):
    set_language(app, world.ids["client_user"], "en")
    vid = submitted_visit(app, world)
    admin = login_as("admin")
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "Time the queue <again>."}).status_code == 302
    drain(app)
    [returned] = inbox.messages
    assert returned["To"] == "eva@t.example" and returned["Subject"].startswith("Käyntisi palautettiin")
    text, html = parts(returned)
    assert "Time the queue <again>." in text and "Time the queue &lt;again&gt;." in html
    assert f"/visits/{vid}/form" in text

    # resubmitted and approved: the client's users get "results released" (client B's do not)
    with app.app_context():
        from audit_app.visits import operations as visit_ops
        from audit_app.visits.models import Visit

        visit_ops.transition(db.session.get(Visit, vid), "submitted")
        db.session.commit()
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    drain(app)
    released = [m for m in inbox.messages if m["To"] != "eva@t.example"]
    assert [m["To"] for m in released] == ["client@a.example"]
    assert released[0]["Subject"] == "New results: Phone"
    text, _html = parts(released[0])
    assert "33.3" in text and f"/reports/visits/{vid}" in text and "Eva" not in text


def checked(page: str) -> set[str]:
    import re

    return set(re.findall(r'<input checked[^>]*name="categories"[^>]*value="([a-z]+)"', page))


def test_each_user_can_turn_categories_off(app, world, login_as, inbox):
    evaluator = login_as("evaluator")
    page = evaluator.get("/account").get_data(as_text=True)
    assert 'id="email-settings"' in page and checked(page) == {"assignment", "returned", "due"}
    response = evaluator.post("/account/email-settings", {"categories": ["returned"]})
    assert response.status_code == 302
    assert checked(evaluator.get("/account").get_data(as_text=True)) == {"returned"}
    assign(app, world)
    drain(app)
    assert inbox.messages == []  # assignments turned off
    assert evaluator.post("/account/email-settings", {"categories": ["assignment", "returned"]}).status_code == 302
    assign(app, world)
    drain(app)
    assert len(inbox.messages) == 1
    # admins have no category: no e-mail section; a made-up category is ignored
    assert 'id="email-settings"' not in login_as("admin").get("/account").get_data(as_text=True)
    assert evaluator.post("/account/email-settings", {"categories": ["released", "nonsense"]}).status_code == 302
    with app.app_context():
        from audit_app.notifications.operations import turned_off

        assert turned_off(world.ids["evaluator"]) == {"assignment", "returned", "due"}


def test_smtp_down_is_retried_and_nothing_is_lost(app, world, monkeypatch):
    port = free_port()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 3600)
    assign(app, world)
    counts = drain(app)
    assert counts["sent"] == 0 and counts["retry"] == 1
    with app.app_context():
        row = db.session.scalar(select(EmailMessage))
        assert row.state == "pending" and row.attempts == 1 and "Connection" in row.last_error
        row.next_attempt_at = row.created_at  # an hour passes
        db.session.commit()
    inbox = Inbox(port)
    try:
        drain(app)
    finally:
        inbox.stop()
    assert len(inbox.messages) == 1
    with app.app_context():
        assert db.session.scalar(select(EmailMessage.state)) == "delivered"


def test_without_smtp_mail_is_written_to_the_instance_outbox(app, world, tmp_path, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "SMTP_URL", "")
    monkeypatch.setitem(app.config, "MAIL_OUTBOX_PATH", str(tmp_path))
    assign(app, world)
    with caplog.at_level("INFO", logger="audit_app.notifications.mail"):
        drain(app)
    [path] = list(tmp_path.glob("*.eml"))
    import email
    from email import policy

    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "eva@t.example" and message.get_body(("html",)) is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "audit_app.notifications.mail"]
    assert len(lines) == 1 and "eva@t.example" in lines[0] and str(path) in lines[0]


def test_default_outbox_folder_is_in_the_instance(app):
    from pathlib import Path

    from audit_app.notifications import mail

    assert "MAIL_OUTBOX_PATH" not in app.config or not app.config["MAIL_OUTBOX_PATH"]
    assert Path(app.instance_path) / "outbox" == mail.Path(app.instance_path) / "outbox"


# --- RQ and the command line ---------------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/6"


def test_with_redis_an_rq_worker_delivers_and_schedules_the_retry(app, world, login_as, receiver, monkeypatch):
    from tests.conftest import require_service

    require_service("Redis", "127.0.0.1", 6379)
    from redis import Redis
    from rq import Queue, SimpleWorker

    import worker

    connection = Redis.from_url(REDIS_URL)
    connection.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE", 60)
    try:
        admin = login_as("admin")
        assert add_endpoint(admin, receiver.url).status_code == 302
        receiver.script = [503]
        vid = submitted_visit(app, world)
        assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
        queue = Queue(delivery.QUEUE, connection=connection)
        assert queue.count >= 1  # queued after the commit, nothing sent in the request
        assert receiver.requests == []
        assert worker.work(app, [delivery.QUEUE], burst=True, worker_class=SimpleWorker)
        assert deliveries(app) == [("pending", 1, 503)]
        # the retry is scheduled for when it is due (about a minute), once
        assert len(queue.scheduled_job_registry) == 1
        with app.app_context():  # the minute passes
            db.session.execute(WebhookDelivery.__table__.update().values(next_attempt_at=func.now()))
            db.session.commit()
        queue.enqueue(delivery.drain_job)
        assert worker.work(app, [delivery.QUEUE], burst=True, worker_class=SimpleWorker)
        assert deliveries(app) == [("delivered", 2, 200)]
        assert len(queue.failed_job_registry) == 0
    finally:
        connection.flushdb()
        connection.close()


def test_flask_notifications_drain(app, world, receiver, login_as):
    admin = login_as("admin")
    assert add_endpoint(admin, receiver.url).status_code == 302
    vid = submitted_visit(app, world)
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    result = app.test_cli_runner().invoke(args=["notifications", "drain"])
    assert result.exit_code == 0 and "delivered 1" in result.output
    assert len(receiver.requests) == 1


def test_the_readme_snippet_verifies_a_real_signature():
    import re
    import time
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Webhooks and e-mail", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102  (our own README)
    body = b'{"id":1,"type":"visit.released"}'
    header = delivery.sign("whsec_x", int(time.time()), body)
    assert namespace["verify"]("whsec_x", header, body)
    assert not namespace["verify"]("whsec_y", header, body)
    assert not namespace["verify"]("whsec_x", delivery.sign("whsec_x", int(time.time()) - 3600, body), body)
