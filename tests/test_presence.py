"""The presence check (issue 15): a location's optional coordinates (form and CSV import), the
position asked once at the start of a visit, only the distance and accuracy kept (never the
coordinates: asserted on the database and on the log), the review screen's flag."""

from __future__ import annotations

import logging

import pytest
from flask import url_for
from sqlalchemy import select, text

from audit_app.extensions import db
from audit_app.visits import registers
from audit_app.visits.models import Location, Visit
from audit_app.visits.presence import clean_coordinates, distance_m, presence_flag
from tests.factories import make_version, make_visit

HOME = (60.1699, 24.9384)  # the location
NEAR = ("60.17123", "24.94111")  # about 210 m away
FAR = ("60.19876", "24.98765")  # about 4 km away


def url(app, endpoint, **kw):
    with app.test_request_context():
        return url_for(endpoint, **kw)


@pytest.fixture
def visit_id(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        location = Location(client_id=client.id, name=f"Kauppa {id(object())}", lat=HOME[0], lon=HOME[1])
        db.session.add(location)
        db.session.flush()
        visit = make_visit(client, db.session.merge(world.evaluator), make_version(), channel="in_person",
                           location=location)
        db.session.commit()
        return visit.id


def visit_row(app, vid) -> Visit:
    with app.app_context():
        visit = db.session.get(Visit, vid)
        db.session.expunge(visit)
        return visit


def everything_stored(app) -> str:
    with app.app_context():
        parts = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                parts.append(repr(tuple(row)))
        return "\n".join(parts)


# --- coordinates of a location -------------------------------------------------------------------

def test_coordinates_are_validated(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert clean_coordinates("60,1699", " 24.9384 ") == (60.1699, 24.9384)
        assert clean_coordinates("", "") == (None, None)
        for lat, lon, field in [("91", "24", "lat"), ("60", "-181", "lon"), ("north", "24", "lat"),
                                ("60", "", "lon"), ("", "24", "lat"), ("nan", "24", "lat"), ("60", "inf", "lon")]:
            with pytest.raises(Exception) as info:
                clean_coordinates(lat, lon)
            assert info.value.field == field, (lat, lon)


def test_distance_is_a_great_circle():
    assert distance_m(*HOME, *HOME) == 0
    assert 200 < distance_m(*HOME, float(NEAR[0]), float(NEAR[1])) < 220
    assert 3500 < distance_m(*HOME, float(FAR[0]), float(FAR[1])) < 4500


def test_the_location_form_takes_coordinates_and_refuses_bad_ones(app, world, login_as):
    admin = login_as("admin")
    new = url(app, "visits.location_new", client_id=world.ids["client_a"])
    bad = admin.post(new, {"name": "Coordinates shop", "lat": "95", "lon": "24.9"})
    assert bad.status_code == 400
    assert "-90" in bad.get_data(as_text=True)
    good = admin.post(new, {"name": "Coordinates shop", "lat": "60,1699", "lon": "24.9384"})
    assert good.status_code == 302
    with app.app_context():
        location = db.session.scalar(select(Location).where(Location.name == "Coordinates shop"))
        assert (location.lat, location.lon) == HOME
        edit = url(app, "visits.location_edit", location_id=location.id)
    assert 'value="60.1699"' in admin.get(edit).get_data(as_text=True)
    assert admin.post(edit, {"name": "Coordinates shop", "lat": "", "lon": "", "active": "y"}).status_code == 302
    with app.app_context():
        location = db.session.scalar(select(Location).where(Location.name == "Coordinates shop"))
        assert (location.lat, location.lon) == (None, None)


def test_the_csv_import_reads_lat_and_lon(app, world):
    csv_text = ("name;address;city;region;lat;lon\n"
                "CSV A;Katu 1;Helsinki;Uusimaa;60.1699;24.9384\n"
                "CSV B;Katu 2;Espoo;Uusimaa;;\n"
                "CSV C;Katu 3;Vantaa;Uusimaa;600;24\n"
                "CSV D;Katu 4;Turku;Varsinais-Suomi;60.45;\n")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        client = db.session.merge(world.client_a)
        report = registers.import_locations(client, csv_text)
        imported = {loc.name: (loc.lat, loc.lon) for loc in report.imported}
        db.session.rollback()
    assert imported == {"CSV A": HOME, "CSV B": (None, None)}
    assert [n for n, _ in report.errors] == [4, 5]
    assert "latitude" in report.errors[0][1] and "both" in report.errors[1][1]


# --- the start ------------------------------------------------------------------------------------

def test_the_start_keeps_the_distance_and_accuracy_never_the_coordinates(app, login_as, visit_id, caplog):
    caplog.set_level(logging.DEBUG)
    eva = login_as("evaluator")
    form_html = eva.get(url(app, "submissions.form", visit_id=visit_id)).get_data(as_text=True)
    assert "data-ask-position" in form_html and 'name="lat"' in form_html
    response = eva.post(url(app, "submissions.start", visit_id=visit_id),
                        {"position": "given", "lat": NEAR[0], "lon": NEAR[1], "accuracy": "24.6"})
    assert response.status_code == 302
    visit = visit_row(app, visit_id)
    assert visit.status == "in_progress" and visit.start_position == "given"
    assert visit.start_distance_m % 10 == 0 and visit.start_distance_m == 210
    assert visit.start_accuracy_m == 25
    stored = everything_stored(app)
    for coordinate in NEAR + ("60.1712", "24.9411"):
        assert coordinate not in stored
        assert coordinate not in caplog.text
    # a second start (a resend) changes nothing
    eva.post(url(app, "submissions.start", visit_id=visit_id), {"position": "given", "lat": FAR[0], "lon": FAR[1]})
    assert visit_row(app, visit_id).start_distance_m == visit.start_distance_m


@pytest.mark.parametrize(("fields", "state"), [
    ({"position": "not_given"}, "not_given"),
    ({}, "not_given"),
    ({"position": "unavailable"}, "unavailable"),
    ({"position": "given", "lat": "nonsense", "lon": "24"}, "not_given"),
])
def test_a_refused_or_missing_position_still_starts_the_visit(app, login_as, visit_id, fields, state):
    eva = login_as("evaluator")
    assert eva.post(url(app, "submissions.start", visit_id=visit_id), fields).status_code == 302
    visit = visit_row(app, visit_id)
    assert visit.status == "in_progress" and visit.start_position == state
    assert visit.start_distance_m is None


def test_a_location_without_coordinates_asks_nothing(app, world, login_as):
    with app.app_context():
        client = db.session.merge(world.client_a)
        location = Location(client_id=client.id, name=f"No coordinates {id(object())}")
        db.session.add(location)
        db.session.flush()
        vid = make_visit(client, db.session.merge(world.evaluator), make_version(), location=location).id
        db.session.commit()
    eva = login_as("evaluator")
    assert "data-ask-position" not in eva.get(url(app, "submissions.form", visit_id=vid)).get_data(as_text=True)
    eva.post(url(app, "submissions.start", visit_id=vid), {"position": "given", "lat": NEAR[0], "lon": NEAR[1]})
    assert visit_row(app, vid).start_position is None


@pytest.mark.parametrize(("distance", "accuracy", "flagged"), [
    (300, 0, False), (310, 0, True), (340, 40, False), (350, 40, True), (4000, None, True),
])
def test_the_flag_is_farther_than_300_m_plus_the_accuracy(app, distance, accuracy, flagged):
    visit = Visit(start_position="given", start_distance_m=distance, start_accuracy_m=accuracy)
    with app.test_request_context():
        assert presence_flag(visit)["flagged"] is flagged
    with app.test_request_context():
        assert presence_flag(Visit(start_position="not_given"))["flagged"] is True
        assert presence_flag(Visit()) is None


def test_the_review_screen_shows_the_distance_and_flags_a_far_start(app, login_as, visit_id):
    eva = login_as("evaluator")
    eva.post(url(app, "submissions.start", visit_id=visit_id),
             {"position": "given", "lat": FAR[0], "lon": FAR[1], "accuracy": "30"})
    html = login_as("admin").get(url(app, "submissions.review", visit_id=visit_id)).get_data(as_text=True)
    assert 'data-presence-state="far"' in html and "±30 m" in html
    with app.app_context():
        assert db.session.execute(text("select start_distance_m from visits where id = :i"), {"i": visit_id}).scalar() > 3000
