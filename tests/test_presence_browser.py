"""The presence check in a real browser at 360 × 740 with Playwright's geolocation: granted near,
granted far away, refused. The visit starts every time; only the distance is kept."""

from __future__ import annotations

import pytest

from audit_app.extensions import db
from audit_app.visits.models import Location, Visit

from . import factories
from .conftest import page_login
from .helpers import wait_for

HOME = (60.1699, 24.9384)


def started(app, vid) -> Visit | None:
    with app.app_context():
        db.session.remove()
        visit = db.session.get(Visit, vid)
        return visit if visit.status == "in_progress" else None


@pytest.mark.parametrize(("where", "state", "flag"), [
    ({"latitude": 60.17123, "longitude": 24.94111, "accuracy": 20}, "given", "near"),
    ({"latitude": 60.19876, "longitude": 24.98765, "accuracy": 20}, "given", "far"),
    (None, "not_given", "not_given"),
])
def test_start_asks_the_position_once(app, world, new_page, where, state, flag):
    with app.app_context():
        client = db.session.merge(world.client_a)
        location = Location(client_id=client.id, name=f"Phone shop {id(object())}", lat=HOME[0], lon=HOME[1])
        db.session.add(location)
        db.session.flush()
        vid = factories.make_visit(client, db.session.merge(world.evaluator), factories.make_version(),
                                   channel="in_person", location=location).id
        db.session.commit()

    page = new_page(phone=True)
    if where is not None:
        page.context.grant_permissions(["geolocation"])
        page.context.set_geolocation(where)
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form")
    assert "sijaintiasi" in page.inner_text("#sq-position-note")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.click("text=Aloita käynti")
    page.wait_for_selector("#sq-progress")
    visit = wait_for(lambda: started(app, vid))
    assert visit.start_position == state
    if state == "given":
        assert visit.start_accuracy_m == 20 and visit.start_distance_m % 10 == 0
        assert (visit.start_distance_m > 3000) == (flag == "far")
    else:
        assert visit.start_distance_m is None

    admin = new_page(phone=False)
    page_login(admin, "admin@t.example")
    admin.goto(f"/admin/visits/{vid}/review")
    assert admin.get_attribute("#presence", "data-presence-state") == flag
