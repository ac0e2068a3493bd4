"""Locations, CSV import, channels, visits, waves, the visit list, "My visits" and anonymity."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from audit_app.checklists import operations as checklist_ops
from audit_app.checklists.models import ChecklistVersion
from audit_app.core.errors import DomainError, NotAllowed
from audit_app.extensions import db
from audit_app.visits import operations
from audit_app.visits.models import ClientChannel, Location, Visit, Wave

from . import factories

TODAY = date.today()


def english(b):
    """Switch the signed-in user of a test client to English, so messages can be read."""
    assert b.post("/language", {"language": "en"}).status_code == 303
    return b


@pytest.fixture
def admin(login_as):
    return english(login_as("admin"))


def count(model, **where) -> int:
    stmt = select(func.count()).select_from(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return db.session.scalar(stmt)


def visit_ids_in(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-visit-id="(\d+)"', html)]


# --- locations --------------------------------------------------------------------------------


def test_location_create_edit_deactivate(app, world, admin):
    cid = world.ids["client_a"]
    assert admin.get(f"/admin/clients/{cid}/locations/new").status_code == 200
    r = admin.post(f"/admin/clients/{cid}/locations/new",
                   {"name": "  Kamppi   branch ", "address": "Urho Kekkosen katu 1", "city": "Helsinki",
                    "region": "Uusimaa"})
    assert r.status_code == 302
    with app.app_context():
        loc = db.session.scalar(select(Location).where(Location.client_id == cid))
        assert (loc.name, loc.city, loc.region, loc.active) == ("Kamppi branch", "Helsinki", "Uusimaa", True)
        loc_id = loc.id
    assert "Kamppi branch" in admin.get(f"/admin/clients/{cid}/locations").get_data(as_text=True)

    # bad input: a clear message and a 400, nothing saved
    bad = [
        ({"name": ""}, "This field is required."),
        ({"name": "   "}, "This field is required."),
        ({"name": "kamppi BRANCH"}, "already has a location with that name"),
        ({"name": "x" * 161}, "At most 160 characters."),
        ({"name": "Ok", "city": "c" * 121}, "At most 120 characters."),
    ]
    for data, message in bad:
        r = admin.post(f"/admin/clients/{cid}/locations/new", data)
        assert r.status_code == 400, data
        assert message in r.get_data(as_text=True), data
    with app.app_context():
        assert count(Location, client_id=cid) == 1
    # the same name is fine for another client
    assert admin.post(f"/admin/clients/{world.ids['client_b']}/locations/new",
                      {"name": "Kamppi branch"}).status_code == 302
    # an unknown client: 404; no CSRF token: refused
    assert admin.post("/admin/clients/999999/locations/new", {"name": "X"}).status_code == 404
    assert admin.post(f"/admin/clients/{cid}/locations/new", {"name": "No token"}, csrf=False).status_code == 400

    # edit
    r = admin.post(f"/admin/locations/{loc_id}", {"name": "Kamppi", "address": "Kamppi 2", "city": "Helsinki",
                                                  "region": "Uusimaa", "active": "y"})
    assert r.status_code == 302
    assert admin.post(f"/admin/clients/{cid}/locations/new", {"name": "Tampere"}).status_code == 302
    r = admin.post(f"/admin/locations/{loc_id}", {"name": "TAMPERE", "active": "y"})
    assert r.status_code == 400 and "already has a location with that name" in r.get_data(as_text=True)
    with app.app_context():
        loc = db.session.get(Location, loc_id)
        assert (loc.name, loc.address) == ("Kamppi", "Kamppi 2")

    # deactivate: kept and listed, but no longer offered for new visits
    assert admin.post(f"/admin/locations/{loc_id}/deactivate").status_code == 302
    with app.app_context():
        assert db.session.get(Location, loc_id).active is False
    page = admin.get(f"/admin/clients/{cid}/locations").get_data(as_text=True)
    assert "Kamppi" in page and "Deactivated" in page
    form = admin.get(f"/admin/visits/new?client_id={cid}").get_data(as_text=True)
    assert f'value="{loc_id}"' not in form
    assert admin.post("/admin/locations/999999/deactivate").status_code == 404
    assert admin.get("/admin/locations/abc").status_code == 404


# --- CSV import -------------------------------------------------------------------------------


def upload(admin, client_id, data: bytes, filename="locations.csv"):
    import io

    return admin.client.post(
        f"/admin/clients/{client_id}/locations/import",
        data={"csrf_token": admin.token(), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def location_names(client_id) -> list[str]:
    return sorted(db.session.scalars(select(Location.name).where(Location.client_id == client_id)))


def test_csv_import_reports_bad_rows_by_line(app, world, admin):
    cid = world.ids["client_a"]
    with app.app_context():
        factories.make_location(db.session.merge(world.client_a), name="Existing")
        db.session.commit()
    text = "\n".join([
        "nimi;osoite;kaupunki;alue",                         # line 1: a Finnish header, semicolons
        "Keskusta;Aleksanterinkatu 1;Helsinki;Uusimaa",       # 2 ok
        ";Nowhere 1;Espoo;Uusimaa",                           # 3 no name
        "Tampere;Hämeenkatu 1;Tampere;Pirkanmaa",             # 4 ok
        "",                                                   # 5 blank: skipped
        "tampere;Other 2;Tampere;Pirkanmaa",                  # 6 duplicate of line 4
        "existing;Somewhere;Oulu;Pohjois-Pohjanmaa",          # 7 already exists
        "Oulu;Kirkkokatu 1;Oulu;Pohjois-Pohjanmaa;extra",     # 8 one column too many
        "Turku;Linnankatu 1;" + "T" * 200 + ";Varsinais-Suomi",  # 9 city too long
        '"Jyväskylä, keskusta";Kauppakatu 1;Jyväskylä;Keski-Suomi',  # 10 ok, quoted
        "Kuopio",                                             # 11 ok: missing cells are empty
    ])
    r = upload(admin, cid, text.encode("utf-8"))
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "4 locations were imported." in page and "5 rows were not imported" in page
    errors = dict(re.findall(r"<tr><td>(\d+)</td><td>(.*?)</td></tr>", page))
    assert set(errors) == {"3", "6", "7", "8", "9"}
    assert "name is required" in errors["3"]
    assert "already on row 4" in errors["6"]
    assert "already has a location named" in errors["7"]
    assert "5 columns" in errors["8"] and "4" in errors["8"]
    assert "City is too long" in errors["9"]
    with app.app_context():
        assert location_names(cid) == ["Existing", "Jyväskylä, keskusta", "Keskusta", "Kuopio", "Tampere"]
        assert db.session.scalar(select(Location.region).where(Location.name == "Tampere")) == "Pirkanmaa"
    # importing the same file again adds nothing (already imported rows are reported as existing)
    r = upload(admin, cid, ("\ufeff" + text).encode("utf-8"))  # a byte-order mark is fine
    assert r.status_code == 200 and "0 locations were imported." in r.get_data(as_text=True)
    with app.app_context():
        assert count(Location, client_id=cid) == 5


BAD_FILES = [
    ("latin-1", "name,address,city,region\nHämeenlinna,Raatihuoneenkatu 1,Hämeenlinna,Kanta-Häme\n".encode("latin-1"),
     "locations.csv", "not in UTF-8"),
    ("no header", b"Keskusta,Aleksanterinkatu 1,Helsinki,Uusimaa\n", "locations.csv", "must be a header"),
    ("missing column", b"name,address,city\nA,B,C\n", "locations.csv", "must be a header"),
    ("duplicate column", b"name,address,city,region,nimi\nA,B,C,D,E\n", "locations.csv", "must be a header"),
    ("empty", b"", "locations.csv", "The file is empty."),
    ("blank", b" \r\n\n  ", "locations.csv", "The file is empty."),
    ("huge", b"name,address,city,region\n" + b"A,B,C,D\n" * 200_000, "locations.csv", "larger than 1 MB"),
    ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "locations.csv", "not a CSV file"),
    ("zip", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00\xff" * 300, "locations.csv", "not a CSV file"),
    ("random bytes", bytes(range(128, 256)) * 20, "locations.csv", "not in UTF-8"),
    ("spreadsheet", b"PK\x03\x04", "locations.xlsx", "not a CSV file"),
    ("huge field", b"name,address,city,region\n\"" + b"x" * 200_000 + b"\",a,b,c\n", "locations.csv",
     "could not be read as CSV"),
]


def test_csv_import_refuses_bad_files(app, world, admin):
    cid = world.ids["client_a"]
    with app.app_context():
        factories.make_location(db.session.merge(world.client_a), name="Kept")
        db.session.commit()
    for case, data, filename, message in BAD_FILES:
        r = upload(admin, cid, data, filename)
        assert r.status_code == 400, case
        assert message in r.get_data(as_text=True), case
        with app.app_context():
            assert location_names(cid) == ["Kept"], case  # nothing saved is lost, nothing half-imported


def test_csv_import_without_a_file(world, admin):
    cid = world.ids["client_a"]
    r = admin.post(f"/admin/clients/{cid}/locations/import", {})
    assert r.status_code == 400 and "Choose a CSV file to import." in r.get_data(as_text=True)
    assert admin.get(f"/admin/clients/{cid}/locations/import").status_code == 200


# --- channels ---------------------------------------------------------------------------------


def test_channels_create_edit_deactivate(app, world, admin):
    cid = world.ids["client_a"]
    r = admin.post(f"/admin/clients/{cid}/channels/new",
                   {"channel": "phone", "label": "Customer service", "contact": "010 123 4567"})
    assert r.status_code == 302
    for data, message in [
        ({"channel": "fax", "label": "Fax"}, "Not a valid choice"),
        ({"channel": "", "label": "Nothing"}, ""),
        ({"channel": "chat", "label": ""}, "This field is required."),
        ({"channel": "chat", "label": "x" * 161}, "At most 160 characters."),
        ({"channel": "email", "label": "Mail", "contact": "@" * 256}, "At most 255 characters."),
    ]:
        r = admin.post(f"/admin/clients/{cid}/channels/new", data)
        assert r.status_code == 400, data
        assert message in r.get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(ClientChannel).where(ClientChannel.client_id == cid))
        assert (row.channel, row.label, row.contact, row.active) == ("phone", "Customer service", "010 123 4567", True)
        assert count(ClientChannel) == 1
        row_id = row.id
    page = admin.get(f"/admin/clients/{cid}/channels").get_data(as_text=True)
    assert "Customer service" in page and "010 123 4567" in page
    r = admin.post(f"/admin/channels/{row_id}", {"channel": "chat", "label": "Chat on the front page",
                                                 "contact": "https://bank.example/chat", "active": "y"})
    assert r.status_code == 302
    assert admin.post(f"/admin/channels/{row_id}/deactivate").status_code == 302
    with app.app_context():
        row = db.session.get(ClientChannel, row_id)
        assert (row.channel, row.label, row.active) == ("chat", "Chat on the front page", False)
    assert admin.get("/admin/channels/999999").status_code == 404


# --- a single visit ---------------------------------------------------------------------------


@pytest.fixture
def setup(app, world):
    """Client A with a location and a phone channel, client B with the same, and checklist versions."""
    with app.app_context():
        a, b = db.session.merge(world.client_a), db.session.merge(world.client_b)
        published = factories.make_version()
        draft = factories.make_version(publish=False)
        retired = factories.make_version()
        checklist_ops.retire(retired)
        ids = {
            "a": a.id, "b": b.id,
            "loc_a": factories.make_location(a).id,
            "loc_b": factories.make_location(b, name="B branch").id,
            "ch_a": factories.make_client_channel(a).id,
            "chat_a": factories.make_client_channel(a, channel="chat", label="Chat").id,
            "ch_b": factories.make_client_channel(b).id,
            "published": published.id, "draft": draft.id, "retired": retired.id,
        }
        db.session.commit()
        ids.update(world.ids)
        return ids


def visit_data(s, **changes):
    data = {"channel": "phone", "location_id": s["loc_a"], "client_channel_id": s["ch_a"],
            "checklist_version_id": s["published"], "evaluator_id": s["evaluator"],
            "due_from": TODAY.isoformat(), "due_to": (TODAY + timedelta(days=7)).isoformat(),
            "scenario": "Call as a 70-year-old who wants to move a pension payment date."}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_create_a_visit(app, admin, setup):
    s = setup
    assert "Client A" in admin.get("/admin/visits/new").get_data(as_text=True)  # first: choose the client
    assert admin.get(f"/admin/visits/new?client_id={s['a']}").status_code == 200
    r = admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s))
    assert r.status_code == 302
    with app.app_context():
        visit = db.session.scalar(select(Visit))
        assert (visit.client_id, visit.location_id, visit.client_channel_id, visit.checklist_version_id,
                visit.evaluator_id, visit.status, visit.channel) == (
            s["a"], s["loc_a"], s["ch_a"], s["published"], s["evaluator"], "assigned", "phone")
        assert visit.due_to == TODAY + timedelta(days=7) and "pension" in visit.scenario
        vid = visit.id
    detail = admin.get(f"/admin/visits/{vid}").get_data(as_text=True)
    assert "pension payment date" in detail and "Eva Evaluator" in detail
    # no location is fine for a phone visit
    r = admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s, location_id="0", client_channel_id="0"))
    assert r.status_code == 302


BAD_VISITS = [
    ({"checklist_version_id": "draft"}, "Choose a published checklist version."),
    ({"checklist_version_id": "retired"}, "Choose a published checklist version."),
    ({"checklist_version_id": "999999"}, "Choose a published checklist version."),
    ({"checklist_version_id": ""}, "Choose a published checklist version."),
    ({"evaluator_id": "admin"}, "Choose an active evaluator."),
    ({"evaluator_id": "client_user"}, "Choose an active evaluator."),
    ({"evaluator_id": "999999"}, "Choose an active evaluator."),
    ({"evaluator_id": "abc"}, ""),
    ({"location_id": "loc_b"}, "The location belongs to another client."),
    ({"location_id": "999999"}, "The location does not exist."),
    ({"client_channel_id": "ch_b"}, "The client channel belongs to another client."),
    ({"client_channel_id": "chat_a"}, "The client channel is for"),
    ({"channel": "in_person", "location_id": "0", "client_channel_id": "0"}, "A visit in person needs a location."),
    ({"channel": "pigeon"}, "Not a valid choice"),
    ({"due_to": (TODAY - timedelta(days=1)).isoformat()}, "The end date cannot be before the start date."),
    ({"due_from": "tomorrow"}, "Not a valid date value."),
    ({"scenario": "s" * 5001}, "At most 5000 characters."),
]


def test_create_a_visit_refuses_bad_input(app, admin, setup):
    s = setup
    for changes, message in BAD_VISITS:
        resolved = {k: str(s[v]) if v in s else v for k, v in changes.items()}
        r = admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s, **resolved))
        assert r.status_code == 400, changes
        assert message in r.get_data(as_text=True), changes
    with app.app_context():
        assert count(Visit) == 0


def test_create_a_visit_for_a_missing_client(admin, setup):
    assert admin.post("/admin/visits/new?client_id=999999", visit_data(setup)).status_code == 404
    assert admin.get("/admin/visits/new?client_id=abc").status_code == 404


def test_edit_a_visit_only_before_it_starts(app, world, admin, setup):
    s = setup
    r = admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s))
    with app.app_context():
        vid = db.session.scalar(select(Visit.id))
    r = admin.post(f"/admin/visits/{vid}/edit", visit_data(s, evaluator_id=str(s["evaluator2"]),
                                                          scenario="Ask about a mortgage."))
    assert r.status_code == 302
    # another client's location cannot be slipped in through the edit form either
    r = admin.post(f"/admin/visits/{vid}/edit", visit_data(s, location_id=str(s["loc_b"])))
    assert r.status_code == 400
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert (visit.evaluator_id, visit.scenario, visit.location_id) == (s["evaluator2"], "Ask about a mortgage.",
                                                                           s["loc_a"])
        visit.status = "in_progress"
        db.session.commit()
    r = admin.post(f"/admin/visits/{vid}/edit", visit_data(s))
    assert r.status_code == 409
    r = admin.get(f"/admin/visits/{vid}/edit")
    assert r.status_code == 302


def test_status_machine(app, world):
    with app.app_context():
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version())
        assert operations.can_transition(visit, "in_progress")
        for wrong in ("submitted", "approved", "returned", "rejected", "assigned"):
            with pytest.raises(NotAllowed):
                operations.check_transition(visit, wrong)
        operations.transition(visit, "in_progress", at=datetime(2026, 1, 5, 9, 30))
        assert visit.started_at == datetime(2026, 1, 5, 9, 30) and visit.visited_on == date(2026, 1, 5)
        operations.transition(visit, "submitted")
        assert visit.submitted_at
        operations.transition(visit, "returned")
        operations.transition(visit, "submitted")
        operations.transition(visit, "approved")
        assert visit.approved_at and visit.reviewed_at and visit.released
        for wrong in ("returned", "submitted", "in_progress", "rejected"):
            with pytest.raises(NotAllowed):
                operations.transition(visit, wrong)
        db.session.rollback()


# --- waves ------------------------------------------------------------------------------------


def test_create_a_wave(app, world, admin, setup):
    s = setup
    with app.app_context():
        second = factories.make_location(db.session.merge(world.client_a), name="Another branch", city="Espoo")
        db.session.commit()
        loc2 = second.id
    assert admin.get(f"/admin/waves/new?client_id={s['a']}").status_code == 200
    start, end = TODAY + timedelta(days=1), TODAY + timedelta(days=30)
    data = {"name": "Spring wave", "checklist_version_id": s["published"], "period_start": start.isoformat(),
            "period_end": end.isoformat(), "channels": ["in_person", "phone"], "location_ids": [s["loc_a"], loc2],
            "evaluator_ids": [s["evaluator"], s["evaluator2"]], "scenario": "Ask about opening an account."}
    r = admin.post(f"/admin/waves/new?client_id={s['a']}", data)
    assert r.status_code == 302
    page = admin.get(r.headers["Location"]).get_data(as_text=True)
    assert "was created with 4 visits" in page
    with app.app_context():
        wave = db.session.scalar(select(Wave))
        assert (wave.name, wave.client_id, wave.checklist_version_id, wave.period_start, wave.period_end) == (
            "Spring wave", s["a"], s["published"], start, end)
        visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        # one visit per location x channel; locations by name ("Another branch" < "Central branch")
        assert [(v.location_id, v.channel) for v in visits] == [
            (loc2, "in_person"), (loc2, "phone"), (s["loc_a"], "in_person"), (s["loc_a"], "phone")]
        assert {v.wave_id for v in visits} == {wave.id}
        assert all(v.client_id == s["a"] and v.checklist_version_id == s["published"] for v in visits)
        assert all((v.due_from, v.due_to) == (start, end) and v.status == "assigned" for v in visits)
        assert all(v.scenario == "Ask about opening an account." for v in visits)
        # evaluators take turns (by name: Eva, then Evan)
        assert [v.evaluator_id for v in visits] == [s["evaluator"], s["evaluator2"]] * 2
        # the client's single active phone channel is attached; in person has none
        assert [v.client_channel_id for v in visits] == [None, s["ch_a"], None, s["ch_a"]]

    # no location: one visit per channel without a location
    data.update(name="Remote wave", channels=["phone", "chat"], location_ids=[], evaluator_ids=[s["evaluator2"]])
    assert admin.post(f"/admin/waves/new?client_id={s['a']}", data).status_code == 302
    with app.app_context():
        wave = db.session.scalar(select(Wave).where(Wave.name == "Remote wave"))
        rows = db.session.scalars(select(Visit).where(Visit.wave_id == wave.id).order_by(Visit.id)).all()
        assert [(v.location_id, v.channel, v.client_channel_id, v.evaluator_id) for v in rows] == [
            (None, "phone", s["ch_a"], s["evaluator2"]), (None, "chat", s["chat_a"], s["evaluator2"])]


BAD_WAVES = [
    ({"channels": ["in_person"], "location_ids": []}, "Visits in person need at least one location."),
    ({"location_ids": ["loc_b"]}, "The location belongs to another client."),
    ({"location_ids": ["999999"]}, "The location does not exist."),
    ({"location_ids": ["abc"]}, ""),
    ({"evaluator_ids": ["admin"]}, "Choose an active evaluator."),
    ({"evaluator_ids": ["999999"]}, "Choose an active evaluator."),
    ({"evaluator_ids": []}, "Choose at least one evaluator."),
    ({"channels": []}, "Choose at least one channel."),
    ({"channels": ["fax"]}, "is not a valid choice"),
    ({"checklist_version_id": "draft"}, "Choose a published checklist version."),
    ({"checklist_version_id": "retired"}, "Choose a published checklist version."),
    ({"name": ""}, "This field is required."),
    ({"period_end": (TODAY - timedelta(days=1)).isoformat()}, "The end date cannot be before the start date."),
]


def test_wave_refuses_bad_input(app, admin, setup):
    s = setup
    for changes, message in BAD_WAVES:
        data = {"name": "Wave", "checklist_version_id": s["published"], "period_start": TODAY.isoformat(),
                "period_end": (TODAY + timedelta(days=10)).isoformat(), "channels": ["in_person", "phone"],
                "location_ids": [s["loc_a"]], "evaluator_ids": [s["evaluator"]]}
        for key, value in changes.items():
            data[key] = [str(s.get(v, v)) for v in value] if isinstance(value, list) else str(s.get(value, value))
        r = admin.post(f"/admin/waves/new?client_id={s['a']}", data)
        assert r.status_code == 400, changes
        assert message in r.get_data(as_text=True), changes
    with app.app_context():
        assert count(Wave) == 0 and count(Visit) == 0


def test_wave_size_is_limited(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        locations = [Location(id=i, client_id=client.id, name=f"L{i}", active=True) for i in range(1, 252)]
        with pytest.raises(DomainError) as err:
            operations.create_wave(
                client=client, name="Too big", version=factories.make_version(), period_start=TODAY,
                period_end=TODAY, channels=["in_person", "phone"], locations=locations,
                evaluators=[db.session.merge(world.evaluator)])
        assert "500" in err.value.message and "502" in err.value.message
        db.session.rollback()


# --- the visit list ---------------------------------------------------------------------------


def test_visit_list_filters(app, world, admin, setup):
    s = setup
    with app.app_context():
        a, b = db.session.merge(world.client_a), db.session.merge(world.client_b)
        eva, evan = db.session.merge(world.evaluator), db.session.merge(world.evaluator2)
        version = factories.make_version()
        rows = {
            "a_eva_soon": factories.make_visit(a, eva, version),
            "a_evan_late": factories.make_visit(a, evan, version, status="submitted"),
            "b_eva_mid": factories.make_visit(b, eva, version, status="in_progress"),
        }
        rows["a_evan_late"].due_to = TODAY + timedelta(days=40)
        rows["b_eva_mid"].due_to = TODAY + timedelta(days=20)
        db.session.commit()
        ids = {k: v.id for k, v in rows.items()}

    def listed(query=""):
        r = admin.get("/admin/visits" + query)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        return visit_ids_in(r.get_data(as_text=True))

    # open visits first, soonest due first
    assert listed() == [ids["a_eva_soon"], ids["b_eva_mid"], ids["a_evan_late"]]
    assert listed(f"?client_id={s['a']}") == [ids["a_eva_soon"], ids["a_evan_late"]]
    assert listed("?status=submitted") == [ids["a_evan_late"]]
    assert listed(f"?evaluator_id={s['evaluator']}") == [ids["a_eva_soon"], ids["b_eva_mid"]]
    assert listed(f"?due_from={(TODAY + timedelta(days=10)).isoformat()}") == [ids["b_eva_mid"], ids["a_evan_late"]]
    assert listed(f"?due_to={(TODAY + timedelta(days=25)).isoformat()}") == [ids["a_eva_soon"], ids["b_eva_mid"]]
    assert listed(f"?client_id={s['b']}&status=in_progress&evaluator_id={s['evaluator']}") == [ids["b_eva_mid"]]
    assert listed(f"?client_id={s['b']}&status=approved") == []
    # closed visits come after the open ones, the latest due first
    with app.app_context():
        version = db.session.scalars(select(Visit.checklist_version_id)).first()
        closed = []
        for days, status in ((-60, "approved"), (-5, "rejected"), (-30, "approved")):
            visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                         db.session.get(ChecklistVersion, version), status=status)
            visit.due_to = TODAY + timedelta(days=days)
            closed.append(visit)
        db.session.commit()
        old, rejected, recent = (v.id for v in closed)
    assert listed() == [ids["a_eva_soon"], ids["b_eva_mid"], ids["a_evan_late"], rejected, recent, old]
    assert listed("?status=approved") == [recent, old]
    # bad filter values: a 400 with the form, never a 500
    for query in ("?status=bogus", "?due_from=yesterday", "?client_id=abc", "?evaluator_id=1.5"):
        assert admin.get("/admin/visits" + query).status_code == 400, query
    assert admin.get("/admin/visits?page=abc").status_code == 200
    assert admin.get("/admin/visits?page=99999999999").status_code == 200


# --- the evaluator's "My visits" ------------------------------------------------------------


def test_my_visits_shows_own_visits_most_urgent_first(app, world, login_as):
    with app.app_context():
        a = db.session.merge(world.client_a)
        eva, evan = db.session.merge(world.evaluator), db.session.merge(world.evaluator2)
        version = factories.make_version()
        location = factories.make_location(a, name="Kauppatori branch", city="Turku")

        def visit(status, due_in, evaluator=eva, scenario=""):
            v = factories.make_visit(a, evaluator, version, status=status, location=location,
                                     scenario=scenario or f"Scenario {status} {due_in}")
            v.due_from, v.due_to = TODAY - timedelta(days=3), TODAY + timedelta(days=due_in)
            return v

        rows = {
            "later": visit("assigned", 10),
            "submitted": visit("submitted", 1),
            "soon": visit("in_progress", 2, scenario="Ask for a new bank card as a customer who lost theirs."),
            "returned": visit("returned", 12),
            "approved": visit("approved", 0),
            "rejected": visit("rejected", 0),
            "other": visit("assigned", 0, evaluator=evan),
        }
        rows["returned"].return_comment = "Please add the queue time."
        db.session.commit()
        ids = {k: v.id for k, v in rows.items()}

    b = login_as("evaluator")
    page = b.get("/my/visits").get_data(as_text=True)
    assert visit_ids_in(page) == [ids["returned"], ids["soon"], ids["later"], ids["submitted"]]
    assert "Ask for a new bank card as a customer who lost theirs." in page
    assert "Please add the queue time." in page and "Kauppatori branch" in page
    assert f"/visits/{ids['soon']}/form" in page
    assert "Scenario assigned 0" not in page  # the other evaluator's visit
    assert visit_ids_in(login_as("evaluator2").get("/my/visits").get_data(as_text=True)) == [ids["other"]]
    for role in ("admin", "client"):
        assert login_as(role).get("/my/visits").status_code == 403


# --- anonymity --------------------------------------------------------------------------------


def test_client_never_sees_the_evaluator(app, world, login_as):
    with app.app_context():
        a = db.session.merge(world.client_a)
        eva = db.session.merge(world.evaluator)
        location = factories.make_location(a)
        visit = factories.make_scored_visit(a, eva, location=location, visited_on=TODAY - timedelta(days=1))
        db.session.commit()
        vid, pseudonym, loc_id = visit.id, eva.pseudonym, location.id
    client = login_as("client")
    pages = [
        client.get(f"/reports/visits/{vid}"),
        client.get("/dashboard"),
        client.get(f"/reports/locations/{loc_id}"),
        client.get(f"/reports/clients/{world.ids['client_a']}/summary"),
    ]
    for r in pages:
        assert r.status_code == 200, r.request.path
        html = r.get_data(as_text=True)
        for secret in ("Eva Evaluator", "eva@t.example", "Eva"):
            assert secret not in html, (r.request.path, secret)
    assert pseudonym and pseudonym != "Eva Evaluator"
    # the admin pages that do name the evaluator are closed to clients
    for url in (f"/admin/visits/{vid}", f"/admin/visits/{vid}/review", "/admin/visits", f"/visits/{vid}/form"):
        assert client.get(url).status_code == 403, url
    # another organisation's client learns nothing, not even that the visit exists
    assert login_as("other_client").get(f"/reports/visits/{vid}").status_code == 404


def test_ids_beyond_any_database_id_are_refused_not_500(app, admin, setup):
    """An id larger than the database's integers is a 400 (form) or a 404 (URL), never a 500."""
    s, huge = setup, "9" * 25
    for field in ("location_id", "client_channel_id", "checklist_version_id", "evaluator_id"):
        r = admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s, **{field: huge}))
        assert r.status_code == 400, field
    assert admin.post(f"/admin/visits/new?client_id={huge}", visit_data(s)).status_code == 404
    wave = {"name": "W", "checklist_version_id": s["published"], "period_start": TODAY.isoformat(),
            "period_end": TODAY.isoformat(), "channels": ["phone"], "evaluator_ids": [s["evaluator"]]}
    for field in ("location_ids", "evaluator_ids", "checklist_version_id"):
        r = admin.post(f"/admin/waves/new?client_id={s['a']}", {**wave, field: [huge]})
        assert r.status_code == 400, field
    for query in (f"client_id={huge}", f"evaluator_id={huge}", "client_id=-1"):
        assert admin.get(f"/admin/visits?{query}").status_code == 400, query
    for url in (f"/admin/visits/{huge}", f"/admin/visits/{huge}/edit", f"/admin/locations/{huge}",
                f"/admin/channels/{huge}", f"/admin/clients/{huge}/locations", f"/admin/clients/{huge}/channels"):
        assert admin.get(url).status_code == 404, url
    with app.app_context():
        assert count(Visit) == 0 and count(Wave) == 0


def test_nul_characters_are_dropped_not_a_database_error(app, admin, setup):
    """PostgreSQL refuses NUL in text; a pasted one is dropped instead of failing the save."""
    s = setup
    assert admin.post(f"/admin/clients/{s['a']}/locations/new", {"name": "Pasi\x00la"}).status_code == 302
    assert admin.post(f"/admin/clients/{s['a']}/channels/new",
                      {"channel": "email", "label": "Mail\x00", "contact": "a\x00@b.example"}).status_code == 302
    assert admin.post(f"/admin/visits/new?client_id={s['a']}", visit_data(s, scenario="Ask\x00 nicely.")).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Location.name).where(Location.name == "Pasila"))
        assert db.session.scalar(select(ClientChannel.contact).where(ClientChannel.label == "Mail")) == "a@b.example"
        assert db.session.scalar(select(Visit.scenario)) == "Ask nicely."
