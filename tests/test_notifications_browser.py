"""Notifications in a real browser: an admin adds a webhook and sends an event again from its
delivery log; an evaluator turns an e-mail category off on the account page (both languages,
no Content-Security-Policy violation). ``SCREENSHOTS=<folder>`` keeps screenshots of the pages."""

from __future__ import annotations

import os

import pytest

from audit_app.extensions import db
from audit_app.notifications import delivery
from tests import factories
from tests.conftest import page_login


def shot(page, name):
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


@pytest.fixture
def receiver_url(app, monkeypatch):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", True)
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("locale, add, sent, again", [
    ("en", "Add webhook", "Delivered", "Send again"),
    ("fi", "Lisää webhook", "Perillä", "Lähetä uudelleen"),
])
def test_admin_adds_a_webhook_and_sends_again(app, world, new_page, receiver_url, locale, add, sent, again):
    page = new_page(locale=locale)
    page_login(page, "admin@t.example")
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["admin"]).language = locale
        db.session.commit()
    page.goto("/webhooks")
    page.click(f"text={add}")
    page.fill("input[name=url]", receiver_url)
    page.check("input[value='visit.released']")
    page.click(f"input[type=submit][value='{add}'], button:has-text('{add}')")
    page.wait_for_load_state("networkidle")
    assert "whsec_" in page.content()
    with app.app_context():
        from audit_app.accounts.models import Client, User
        from audit_app.visits import operations

        visit = factories.make_scored_visit(db.session.get(Client, world.ids["client_a"]),
                                            db.session.get(User, world.ids["evaluator"]), status="submitted")
        operations.transition(visit, "approved")
        db.session.commit()
        delivery.drain_all()
        db.session.remove()
    page.reload()
    assert sent in page.content() and "HTTP 200" in page.content()
    page.click(f"button:has-text('{again}')")
    page.wait_for_load_state("networkidle")
    with app.app_context():
        delivery.drain_all()
        db.session.remove()
    page.reload()
    assert page.content().count("HTTP 200") == 2
    shot(page, f"webhook-{locale}")
    page.goto("/webhooks")
    shot(page, f"webhooks-{locale}")


@pytest.mark.parametrize("locale, save", [("en", "Save e-mail settings"), ("fi", "Tallenna sähköpostiasetukset")])
def test_evaluator_turns_an_email_category_off(app, world, new_page, locale, save):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["evaluator"]).language = locale
        db.session.commit()
    page = new_page(phone=True, locale=locale)
    page_login(page, "eva@t.example")
    page.goto("/account#email-settings")
    page.uncheck("input[value=assignment]")
    page.click(f"button:has-text('{save}')")
    page.wait_for_load_state("networkidle")
    assert not page.is_checked("input[value=assignment]") and page.is_checked("input[value=returned]")
    shot(page, f"account-email-{locale}")
    with app.app_context():
        from audit_app.notifications.operations import turned_off

        assert turned_off(world.ids["evaluator"]) == {"assignment"}


@pytest.mark.parametrize("locale, daily, save", [
    ("en", "One summary e-mail a day", "Save e-mail settings"),
    ("fi", "Yksi koosteviesti päivässä", "Tallenna sähköpostiasetukset"),
])
def test_client_manager_chooses_the_daily_digest(app, world, new_page, locale, daily, save):
    with app.app_context():
        from audit_app.accounts.models import User

        user = db.session.get(User, world.ids["client_user"])
        user.language, user.manager = locale, True
        db.session.commit()
    page = new_page(locale=locale)
    page_login(page, "client@a.example")
    page.goto("/account#email-settings")
    assert page.is_checked("input[value=overdue]") and page.is_checked("input[name=released_mode][value=each]")
    page.check(f"label:has-text('{daily}')")
    page.click(f"button:has-text('{save}')")
    page.wait_for_load_state("networkidle")
    assert page.is_checked("input[name=released_mode][value=daily]")
    shot(page, f"account-email-digest-{locale}")
    with app.app_context():
        from audit_app.notifications.operations import released_digest

        assert released_digest(world.ids["client_user"])
