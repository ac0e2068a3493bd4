"""The admin's visit work in a real browser at desktop width: a wave created and a visit approved."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from audit_app.extensions import db
from audit_app.submissions.models import AuditEvent
from audit_app.visits.models import Visit, Wave

from . import factories
from .conftest import page_login


def test_admin_creates_a_wave_and_approves_a_visit(app, world, new_page):
    with app.app_context():
        client_a = db.session.merge(world.client_a)
        db.session.merge(world.admin).language = "en"
        version = factories.make_version()
        north = factories.make_location(client_a, name="Oulu branch", city="Oulu", region="Pohjois-Pohjanmaa")
        south = factories.make_location(client_a, name="Turku branch", city="Turku", region="Varsinais-Suomi")
        factories.make_client_channel(client_a, channel="phone", label="Customer service")
        # a visit already submitted, waiting for review
        submitted = factories.make_scored_visit(client_a, db.session.merge(world.evaluator), version=version,
                                                status="submitted", location=north)
        db.session.commit()
        ids = {"client": client_a.id, "version": version.id, "north": north.id, "south": south.id,
               "submitted": submitted.id}

    page = new_page(phone=False, locale="en")
    page.set_viewport_size({"width": 1280, "height": 900})
    page_login(page, "admin@t.example")

    # the wave, through the visit list: choose the client, then fill the form
    page.goto("/admin/visits")
    page.click("a[href^='/admin/waves/new']")
    page.select_option("#client_id", str(ids["client"]))
    page.click("form[action='/admin/waves/new'] button[type=submit]")
    page.wait_for_selector("#name")
    page.fill("#name", "Winter wave")
    page.select_option("#checklist_version_id", str(ids["version"]))
    start, end = date.today(), date.today() + timedelta(days=21)
    page.fill("#period_start", start.isoformat())
    page.fill("#period_end", end.isoformat())
    page.check("#channels-in_person")
    page.check("#channels-phone")
    page.check(f"#location_ids-{ids['north']}")
    page.check(f"#location_ids-{ids['south']}")
    page.check(f"#evaluator_ids-{world.ids['evaluator']}")
    page.check(f"#evaluator_ids-{world.ids['evaluator2']}")
    page.fill("#scenario", "Ask about the opening hours during the holidays.")
    with page.expect_navigation():
        page.click("#submit")
    assert "/admin/visits" in page.url
    assert "4" in page.inner_text(".alert-success")
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.name == "Winter wave"))
        rows = db.session.scalars(select(Visit).where(Visit.wave_id == wave.id)).all()
        assert sorted((v.location_id, v.channel) for v in rows) == sorted(
            (loc, ch) for loc in (ids["north"], ids["south"]) for ch in ("in_person", "phone"))
        assert {v.evaluator_id for v in rows} == {world.ids["evaluator"], world.ids["evaluator2"]}
        assert all(v.due_to == end and v.status == "assigned" for v in rows)
    # the new visits are in the list
    assert page.locator("#visit-list tbody tr[data-visit-id]").count() == 5

    # the review queue, the review screen, approve
    page.goto("/admin/review")
    page.click(f"a[href='/admin/visits/{ids['submitted']}/review']")
    page.wait_for_selector("#score-overall")
    assert page.inner_text("#score-overall") == "33.3"
    with page.expect_navigation():
        page.click(f"form[action='/admin/visits/{ids['submitted']}/approve'] button[type=submit]")
    assert page.url.endswith("/admin/review")
    assert "No submitted visits are waiting for review." in page.content()
    with app.app_context():
        visit = db.session.get(Visit, ids["submitted"])
        assert visit.status == "approved" and visit.approved_at
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.visit_id == visit.id))
        assert (event.action, event.user_id, event.old_value, event.new_value) == (
            "approved", world.ids["admin"], "submitted", "approved")
    page.goto(f"/admin/visits/{ids['submitted']}/review")
    assert "Approved" in page.inner_text("#visit-status")


def test_my_visits_on_a_phone(app, world, new_page):
    """The evaluator's list fits a 360 px screen, most urgent first, and leads into the form."""
    today = date.today()
    with app.app_context():
        client_a = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version()
        channel = factories.make_client_channel(
            client_a, channel="chat", label="Chat on the front page",
            contact="https://www.pohjolanpankki.example/asiakaspalvelu/chat?lang=fi&source=mysteryshopping-demo")
        later = factories.make_visit(client_a, evaluator, version, scenario="Ask about a car loan.")
        later.due_to = today + timedelta(days=9)
        soon = factories.make_visit(client_a, evaluator, version, channel="chat",
                                    scenario="Ask in the chat why your account shows an unknown charge of 29.90 euros. "
                                             "Be polite but insist on a clear answer.")
        soon.client_channel_id = channel.id
        soon.due_to = today + timedelta(days=1)
        db.session.commit()
        ids = (soon.id, later.id)

    page = new_page(phone=True)
    page_login(page, "eva@t.example")
    page.goto("/my/visits")
    cards = page.locator("article.visit-card")
    assert [int(cards.nth(i).get_attribute("data-visit-id")) for i in range(cards.count())] == list(ids)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert "unknown charge of 29.90 euros" in cards.first.inner_text()
    button = cards.first.locator("a.btn")
    assert button.bounding_box()["height"] >= 48
    button.click()
    page.wait_for_url(f"**/visits/{ids[0]}/form")
    assert "unknown charge of 29.90 euros" in page.content()  # the scenario again, before starting
    page.click("text=Aloita käynti")
    page.wait_for_selector("#sq-progress")
    with app.app_context():
        visit = db.session.get(Visit, ids[0])
        assert visit.status == "in_progress" and visit.started_at is not None
