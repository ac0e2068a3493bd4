"""Issue 13, admins and evaluators, through the real views: bulk actions and the cancelled status,
the wave in the visits list, dates in the user's locale, the grade on the visit page, New
checklist from the starter, publishing confirmed, the review screen's points, photos and tables,
the review queue's fixed number of statements, the receipt after submitting, overdue visits."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from audit_app.checklists.models import Checklist, ChecklistVersion
from audit_app.core.errors import NotAllowed
from audit_app.extensions import db
from audit_app.visits import operations as visit_ops
from audit_app.visits.models import Visit, Wave

from . import factories


def text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def set_language(browser, language):
    assert browser.post("/language", {"language": language, "next": "/"}).status_code in (302, 303)


@pytest.fixture
def three(app, world):
    """Three visits of client A: one assigned, one in progress, one submitted."""
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        assigned = factories.make_visit(client, evaluator, version)
        started = factories.make_visit(client, evaluator, version, status="in_progress")
        submitted = factories.make_scored_visit(client, evaluator, version, status="submitted")
        db.session.commit()
        return {"assigned": assigned.id, "started": started.id, "submitted": submitted.id}


def status_of(app, visit_id):
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        return visit.status, visit.evaluator_id, visit.due_from, visit.due_to


# --- bulk actions ----------------------------------------------------------------------------------


def test_bulk_cancel_changes_what_it_may_and_counts_the_rest(app, world, login_as, three):
    admin = login_as("admin")
    set_language(admin, "en")
    r = admin.post("/admin/visits/bulk?status=&page=1", {"action": "cancel", "visit_ids": list(three.values())})
    assert r.status_code == 302 and r.headers["Location"].startswith("/admin/visits?")
    assert status_of(app, three["assigned"])[0] == "cancelled"
    assert status_of(app, three["started"])[0] == "cancelled"
    assert status_of(app, three["submitted"])[0] == "submitted"
    page = text(admin.get("/admin/visits"))
    assert "2 visits were cancelled." in page
    assert "1 visit was “Submitted” and was left as it was." in page
    assert page.count("Cancelled") >= 2
    # each cancelling is in the visit's audit trail, by the admin who did it
    with app.app_context():
        from audit_app.submissions.models import AuditEvent

        trail = db.session.scalars(select(AuditEvent).where(AuditEvent.visit_id == three["started"],
                                                            AuditEvent.field == "status")).all()
        assert [(e.action, e.old_value, e.new_value, e.user_id) for e in trail][-1] == (
            "cancelled", "in_progress", "cancelled", world.ids["admin"])
        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.visit_id == three["submitted"],
                                                               AuditEvent.action == "cancelled")).all()
    # a cancelled visit is off the evaluator's list and ends there
    evaluator = login_as("evaluator")
    mine = evaluator.get("/my/visits").get_data(as_text=True)
    assert f'data-visit-id="{three["assigned"]}"' not in mine and f'data-visit-id="{three["submitted"]}"' in mine
    assert evaluator.post(f"/visits/{three['assigned']}/start").status_code in (403, 404, 409)
    with app.app_context():
        with pytest.raises(NotAllowed):
            visit_ops.transition(db.session.get(Visit, three["assigned"]), "in_progress")


def test_bulk_reassign_only_visits_not_started(app, world, login_as, three):
    admin = login_as("admin")
    set_language(admin, "en")
    r = admin.post("/admin/visits/bulk", {"action": "reassign", "evaluator_id": world.ids["evaluator2"],
                                          "visit_ids": list(three.values())})
    assert r.status_code == 302
    assert status_of(app, three["assigned"])[1] == world.ids["evaluator2"]
    assert status_of(app, three["started"])[1] == world.ids["evaluator"]
    page = text(admin.get("/admin/visits"))
    assert "1 visit was reassigned." in page
    assert "1 visit was “In progress” and was left as it was." in page
    assert "1 visit was “Submitted” and was left as it was." in page


def test_bulk_due_window(app, world, login_as, three):
    admin = login_as("admin")
    start, end = date(2026, 11, 2), date(2026, 11, 24)
    r = admin.post("/admin/visits/bulk", {"action": "window", "due_from": start.isoformat(),
                                          "due_to": end.isoformat(), "visit_ids": list(three.values())})
    assert r.status_code == 302
    assert status_of(app, three["started"])[2:] == (start, end)
    assert status_of(app, three["submitted"])[2:] != (start, end)


@pytest.mark.parametrize("data,message", [
    ({"action": "cancel"}, "Select at least one visit."),
    ({"action": "", "visit_ids": ["X"]}, None),
    ({"action": "", "visit_ids": ["1"]}, "Choose what to do with the selected visits."),
    ({"action": "reassign", "evaluator_id": "0", "visit_ids": ["1"]}, "Choose an active evaluator."),
    ({"action": "window", "due_from": "2026-11-24", "due_to": "2026-11-01", "visit_ids": ["1"]},
     "The end date cannot be before the start date."),
    ({"action": "window", "due_from": "yesterday", "due_to": "2026-11-01", "visit_ids": ["1"]}, None),
])
def test_bulk_bad_input_is_a_400_with_a_message_and_changes_nothing(app, world, login_as, three, data, message):
    admin = login_as("admin")
    set_language(admin, "en")
    data = {**data, "visit_ids": [str(three["assigned"]) if v == "1" else v for v in data.get("visit_ids", [])]}
    before = status_of(app, three["assigned"])
    r = admin.post("/admin/visits/bulk", data)
    assert r.status_code == 400
    assert 'id="visit-list"' in r.get_data(as_text=True)
    if message:
        assert message in text(r)
    assert status_of(app, three["assigned"]) == before


def test_bulk_needs_the_csrf_token_and_an_admin(app, world, login_as, three):
    admin = login_as("admin")
    assert admin.post("/admin/visits/bulk", {"action": "cancel", "visit_ids": [three["assigned"]]},
                      csrf=False).status_code == 400
    assert login_as("evaluator").post("/admin/visits/bulk", {"action": "cancel",
                                                            "visit_ids": [three["assigned"]]}).status_code == 403
    assert status_of(app, three["assigned"])[0] == "assigned"


# --- the visits list, dates, the visit page ---------------------------------------------------------


def test_wave_shown_and_filterable_and_dates_in_the_users_locale(app, world, login_as):
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        wave = Wave(client_id=client.id, name="Autumn round", checklist_version_id=version.id,
                    period_start=date(2026, 11, 2), period_end=date(2026, 11, 24))
        db.session.add(wave)
        db.session.flush()
        in_wave = factories.make_visit(client, evaluator, version)
        in_wave.wave_id, in_wave.due_from, in_wave.due_to = wave.id, date(2026, 11, 2), date(2026, 11, 24)
        other = factories.make_visit(client, evaluator, version)
        db.session.commit()
        wave_id, in_id, other_id = wave.id, in_wave.id, other.id
    admin = login_as("admin")
    set_language(admin, "fi")
    page = admin.get("/admin/visits").get_data(as_text=True)
    assert "Autumn round" in page and "24.11.2026" in page and "2026-11-24" not in page
    filtered = admin.get(f"/admin/visits?wave_id={wave_id}").get_data(as_text=True)
    assert f'data-visit-id="{in_id}"' in filtered and f'data-visit-id="{other_id}"' not in filtered
    set_language(admin, "en")
    assert "Nov 24, 2026" in text(admin.get("/admin/visits"))
    assert "Nov 24, 2026" in text(admin.get(f"/admin/visits/{in_id}"))


@pytest.mark.parametrize("lang,grade", [("en", "Poor"), ("fi", "Heikko")])
def test_visit_page_shows_the_grade(app, world, login_as, lang, grade):
    with app.app_context():
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator))
        db.session.commit()
        assert "grade" not in visit.score_data  # stored scores never carry it
        vid = visit.id
    admin = login_as("admin")
    set_language(admin, lang)
    page = admin.get(f"/admin/visits/{vid}").get_data(as_text=True)
    assert re.search(rf'id="visit-grade">\s*{grade}\s*<', page), page[page.find("visit-score"):][:400]


# --- checklists: the starter, publishing confirmed --------------------------------------------------


def test_new_checklist_from_the_starter(app, world, login_as):
    admin = login_as("admin")
    set_language(admin, "en")
    form = admin.get("/admin/checklists/new").get_data(as_text=True)
    assert "Start from the starter checklist" in form
    r = admin.post("/admin/checklists/new", {"start": "starter", "title_fi": "", "title_en": "", "description_fi": "",
                                             "description_en": ""})
    assert r.status_code == 302
    r2 = admin.post("/admin/checklists/new", {"start": "starter", "title_fi": "Pankin lista",
                                              "title_en": "Bank list"})
    assert r2.status_code == 302
    with app.app_context():
        versions = list(db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.id)))
        starter = factories.starter_doc()
        assert versions[0].title == starter["title"] and versions[0].status == "draft"
        assert versions[1].title == {"fi": "Pankin lista", "en": "Bank list"}
        n = sum(len(s["questions"]) for s in starter["sections"])
        assert len(versions[0].questions()) == len(versions[1].questions()) == n
    # a blank one still needs a title
    r3 = admin.post("/admin/checklists/new", {"start": "blank", "title_fi": "", "title_en": ""})
    assert r3.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Checklist)) == 2


def test_publishing_asks_first(app, world, login_as):
    with app.app_context():
        version = factories.make_version(publish=False)
        db.session.commit()
        vid = version.id
    admin = login_as("admin")
    set_language(admin, "en")
    page = admin.get(f"/admin/checklists/versions/{vid}").get_data(as_text=True)
    assert f'href="/admin/checklists/versions/{vid}/publish"' in page
    confirm = admin.get(f"/admin/checklists/versions/{vid}/publish")
    assert confirm.status_code == 200 and "Publishing freezes this version." in text(confirm)
    with app.app_context():
        assert db.session.get(ChecklistVersion, vid).status == "draft"  # asking changed nothing
    assert admin.post(f"/admin/checklists/versions/{vid}/publish").status_code == 302
    with app.app_context():
        assert db.session.get(ChecklistVersion, vid).status == "published"
    assert admin.get(f"/admin/checklists/versions/{vid}/publish").status_code == 302


def test_import_problems_in_words(app, world, login_as):
    import io
    import json

    doc = factories.small_doc()
    doc["sections"][0]["questions"] = []
    doc["sections"][1]["questions"][2]["weight"] = 0
    admin = login_as("admin")
    for lang, empty, weight in (("en", "Section 1 needs at least one question.",
                                 "Section 2, question 3, weight: the weight must be greater than 0"),
                                ("fi", "Osio 1 tarvitsee vähintään yhden kysymyksen.",
                                 "Osio 2, kysymys 3, paino: painon pitää olla suurempi kuin 0")):
        set_language(admin, lang)
        r = admin.post("/admin/checklists/import", {"file": (io.BytesIO(json.dumps(doc).encode()), "x.json")},
                       content_type="multipart/form-data")
        assert r.status_code == 400
        assert empty in text(r) and weight in text(r), text(r)[:2000]
        assert "sections[0]" not in text(r)


# --- the review screen and the queue ----------------------------------------------------------------


def test_review_points_photos_and_one_table(app, world, login_as):
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        visit = factories.make_scored_visit(client, evaluator, status="submitted")
        questions = {q.key: q.id for q in visit.checklist_version.questions()}
        visit.status = "in_progress"
        factories.make_photo(visit, evaluator, question_id=questions["q5"], caption="The counter")
        visit.status = "submitted"
        db.session.commit()
        vid = visit.id
    admin = login_as("admin")
    set_language(admin, "en")
    page = admin.get(f"/admin/visits/{vid}/review").get_data(as_text=True)
    answer = page[page.index(f'id="answer-{questions["q2"]}"'):]
    answer = answer[:answer.index('class="list-group-item"') if 'class="list-group-item"' in answer else None]
    assert "0.5 of 2 points" in text_of(answer)  # 7 minutes: fraction 0.25 × weight 2
    assert "1.5 of 3 points" in text_of(page)  # section A: 1 + 0.5 of 1 + 2 (q3 N/A left out)
    q5 = page[page.index(f'id="answer-{questions["q5"]}"'):][:3000]
    assert "/photos/" in q5 and "The counter" in q5  # the photo beside its answer
    # two sections, two dimensions, the same figures: one table
    assert page.count('id="score-sections"') == 1 and 'id="score-dimensions"' not in page
    assert "Sections and their dimensions" in page


def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def count_statements(app, fn) -> int:
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def test_review_queue_statement_count_does_not_grow_with_the_visits(app, world, login_as):
    admin = login_as("admin")
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        locations = [factories.make_location(client, name=f"Branch {i}") for i in range(3)]
        for i in range(2):
            factories.make_scored_visit(client, evaluator, version, status="submitted", location=locations[i])
        db.session.commit()
    admin.get("/admin/review")  # warm up
    few = count_statements(app, lambda: admin.get("/admin/review"))
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        other = db.session.merge(world.client_b)
        location_b = factories.make_location(other, name="Other branch")
        version = db.session.scalar(select(ChecklistVersion))
        for i in range(88):
            if i % 2:
                factories.make_scored_visit(other, evaluator, version, status="submitted", location=location_b)
            else:
                factories.make_scored_visit(client, evaluator, version, status="submitted",
                                            location=factories.make_location(client, name=f"More {i}"))
        db.session.commit()
    many = count_statements(app, lambda: admin.get("/admin/review"))
    assert many == few, (few, many)
    first = admin.get("/admin/review").get_data(as_text=True)
    assert len(re.findall(r'href="/admin/visits/\d+/review"', first)) == 50
    assert "90 waiting" in text_of(first) or "Odottaa: 90" in text_of(first)
    second = admin.get("/admin/review?page=2").get_data(as_text=True)
    assert len(re.findall(r'href="/admin/visits/\d+/review"', second)) == 40


# --- the evaluator ------------------------------------------------------------------------------


def test_submit_leads_to_a_receipt(app, world, login_as):
    with app.app_context():
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                     factories.make_version(), status="in_progress")
        for key, value in factories.WORKED_EXAMPLE.items():
            factories.answer(visit, key, value, na=value is None)
        factories.make_photo(visit, db.session.merge(world.evaluator), caption="Door")
        db.session.commit()
        vid = visit.id
    evaluator = login_as("evaluator")
    set_language(evaluator, "en")
    assert evaluator.get(f"/visits/{vid}/submitted").status_code == 302  # nothing to show yet
    r = evaluator.post(f"/visits/{vid}/submit")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/visits/{vid}/submitted")
    receipt = text(evaluator.get(f"/visits/{vid}/submitted"))
    assert "Thank you. The visit was submitted." in receipt
    assert "5 answers · 1 photo" in receipt
    assert "A reviewer checks your answers." in receipt
    set_language(evaluator, "fi")
    assert "5 vastausta · 1 kuva" in text(evaluator.get(f"/visits/{vid}/submitted"))
    assert login_as("evaluator2").get(f"/visits/{vid}/submitted").status_code == 404


def test_my_visits_marks_overdue_and_no_saved_before_the_start(app, world, login_as):
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        late = factories.make_visit(client, evaluator, version, status="returned")
        late.due_from, late.due_to = date.today() - timedelta(days=9), date.today() - timedelta(days=1)
        on_time = factories.make_visit(client, evaluator, version)
        db.session.commit()
        late_id, on_time_id = late.id, on_time.id
    evaluator = login_as("evaluator")
    set_language(evaluator, "en")
    page = evaluator.get("/my/visits").get_data(as_text=True)
    cards = {int(m.group(1)): m.group(2) for m in re.finditer(r'data-visit-id="(\d+)"(.*?)</article>', page, re.S)}
    assert "Overdue" in cards[late_id] and "Overdue" not in cards[on_time_id]
    start = evaluator.get(f"/visits/{on_time_id}/form").get_data(as_text=True)
    assert "Start the visit" in start and 'id="sq-state"' not in start and ">Saved<" not in start
