"""Answers, submission, QA review and the audit trail through the test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from audit_app.checklists.models import Question
from audit_app.extensions import db
from audit_app.scoring import score_visit
from audit_app.submissions.models import Answer, AuditEvent
from audit_app.submissions.operations import scoring_answers
from audit_app.visits.models import Visit

from . import factories


def iso(dt: datetime) -> str:
    return dt.replace(tzinfo=UTC).isoformat()


@pytest.fixture
def visit_ids(app, world):
    """A phone visit of the small checklist (client A, evaluator Eva) and the question ids by key."""
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version()
        visit = factories.make_visit(client, evaluator, version, status="assigned")
        other_version = factories.make_version()
        db.session.commit()
        qids = {q.key: q.id for q in version.questions()}
        other = {q.key: q.id for q in other_version.questions()}
        return {"visit": visit.id, "q": qids, "other_q": other}


def save(b, visit_id, question_id, value=None, na=False, comment="", at=None, **extra):
    payload = {"question_id": question_id, "value": value, "na": na, "comment": comment,
               "answered_at": iso(at or datetime.now(UTC).replace(tzinfo=None)), "client_id": "c-1"}
    payload.update(extra)
    return b.post_json(f"/visits/{visit_id}/answers", payload)


def stored(app, visit_id, question_id):
    with app.app_context():
        return db.session.scalar(select(Answer).where(Answer.visit_id == visit_id, Answer.question_id == question_id))


def answer_all(b, ids, answers=None):
    for key, value in (answers or factories.WORKED_EXAMPLE).items():
        r = save(b, ids["visit"], ids["q"][key], value, na=value is None)
        assert r.status_code == 200, r.get_json()


def status_of(app, visit_id):
    with app.app_context():
        return db.session.get(Visit, visit_id).status


def test_start_records_time_and_status(app, login_as, visit_ids):
    b = login_as("evaluator")
    page = b.get(f"/visits/{visit_ids['visit']}/form").get_data(as_text=True)
    assert "Aloita käynti" in page  # not started yet: the scenario and a start button
    r = b.post(f"/visits/{visit_ids['visit']}/start")
    assert r.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, visit_ids["visit"])
        assert visit.status == "in_progress" and visit.started_at and visit.visited_on
        assert db.session.scalar(select(AuditEvent.new_value).where(AuditEvent.visit_id == visit.id)) == "in_progress"
    # starting twice is harmless
    assert b.post(f"/visits/{visit_ids['visit']}/start").status_code == 302
    page = b.get(f"/visits/{visit_ids['visit']}/form?section=2").get_data(as_text=True)
    assert "Osio 2/2 · Yksityisyys" in page


def test_form_shows_only_questions_of_the_channel(app, world, login_as):
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version(factories.starter_doc())
        visit = factories.make_visit(client, evaluator, version, channel="email", status="in_progress")
        db.session.commit()
        phone_only = [q.id for q in version.questions() if q.channels == ["phone"]]
        visit_id = visit.id
    b = login_as("evaluator")
    html = "".join(b.get(f"/visits/{visit_id}/form?section={n}").get_data(as_text=True) for n in range(1, 6))
    for qid in phone_only:
        assert f'data-question-id="{qid}"' not in html
    assert "Osio 1/5" in html
    # an answer to a phone-only question is refused on an email visit
    r = save(b, visit_id, phone_only[0], 3)
    assert r.status_code == 400 and r.get_json()["error"]


def test_save_answer_and_last_writer_wins(app, login_as, visit_ids):
    b = login_as("evaluator")
    vid, q1 = visit_ids["visit"], visit_ids["q"]["q1"]
    now = datetime.now(UTC).replace(tzinfo=None)
    r = save(b, vid, q1, True, comment="Found at once", at=now)
    assert r.status_code == 200 and r.get_json()["ok"] is True and r.get_json()["saved_at"]
    assert status_of(app, vid) == "in_progress"  # the first answer starts the visit
    # device B answered later; device A's older write arrives after it and loses
    assert save(b, vid, q1, False, at=now + timedelta(minutes=2)).status_code == 200
    r = save(b, vid, q1, True, at=now + timedelta(minutes=1))
    assert r.status_code == 200 and r.get_json() == {**r.get_json(), "ok": True, "stale": True}
    row = stored(app, vid, q1)
    assert row.value is False
    # re-sending the same write is harmless
    for _ in range(2):
        assert save(b, vid, q1, False, at=now + timedelta(minutes=2)).status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(Answer).where(Answer.visit_id == vid)).all()) == 1


@pytest.mark.parametrize("key,payload", [
    ("q3", {"value": 6}),                     # scale out of range
    ("q3", {"value": 0}),
    ("q3", {"value": "3"}),                   # a string for a scale
    ("q2", {"value": "seven"}),               # a word in a number
    ("q2", {"value": 1e300}),                 # absurdly large
    ("q1", {"value": "maybe"}),
    ("q1", {"value": None, "na": True}),      # N/A where not allowed
    ("q6", {"value": 5}),                     # a number for a text question
    ("q6", {"value": "x" * 5001}),
    ("q1", {"value": True, "comment": "x" * 5001}),
    ("q1", {"value": True, "na": "yes"}),     # wrong types
    ("q1", {"value": True, "comment": 5}),
    ("q1", {"value": True, "answered_at": "yesterday"}),
    ("q1", {"value": True, "answered_at": 12}),
    ("q1", {"value": True, "question_id": "1"}),
    ("q1", {"value": True, "question_id": True}),
    ("q1", {"value": True, "question_id": 999999}),
    ("q1", {"value": True, "question_id": 10**25}),   # beyond any id: "not found", not a database error
    ("q1", {"value": True, "question_id": -(2**63)}),
    ("q1", {"value": True, "client_id": ["x"]}),
])
def test_bad_answers_are_refused(app, login_as, visit_ids, key, payload):
    b = login_as("evaluator")
    data = {"question_id": visit_ids["q"][key], "value": None, "na": False, "comment": "",
            "answered_at": iso(datetime.now(UTC).replace(tzinfo=None)), **payload}
    r = b.post_json(f"/visits/{visit_ids['visit']}/answers", data)
    assert r.status_code == 400
    assert r.get_json()["error"]
    assert stored(app, visit_ids["visit"], visit_ids["q"][key]) is None


def test_unknown_option_and_other_checklist(app, world, login_as, visit_ids):
    b = login_as("evaluator")
    # a question of another checklist version
    r = save(b, visit_ids["visit"], visit_ids["other_q"]["q1"], True)
    assert r.status_code == 400 and "tarkistuslist" in r.get_json()["error"]
    # an option that does not exist
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version(factories.starter_doc())
        visit = factories.make_visit(client, evaluator, version, channel="phone", status="in_progress")
        db.session.commit()
        choice = next(q for q in version.questions() if q.kind == "choice" and q.applies_to("phone"))
        vid, qid = visit.id, choice.id
    r = save(b, vid, qid, "no_such_option")
    assert r.status_code == 400 and r.get_json()["error"] == "Vastaus ei ole mikään vaihtoehdoista."


def test_malformed_requests(app, login_as, visit_ids):
    b = login_as("evaluator")
    url = f"/visits/{visit_ids['visit']}/answers"
    headers = {"X-CSRFToken": b.token(), "Content-Type": "application/json"}
    for body in ("{not json", "[]", "null", '"text"'):
        r = b.client.post(url, data=body, headers=headers)
        assert r.status_code == 400, body
        assert r.get_json()["error"]
    # no CSRF header: refused
    r = b.post_json(url, {"question_id": visit_ids["q"]["q1"], "value": True}, csrf=False)
    assert r.status_code == 400


def test_other_evaluators_visit_is_404(app, login_as, visit_ids):
    other = login_as("other_evaluator")
    assert save(other, visit_ids["visit"], visit_ids["q"]["q1"], True).status_code == 404
    assert other.get(f"/visits/{visit_ids['visit']}/form").status_code == 404
    assert other.post(f"/visits/{visit_ids['visit']}/submit").status_code == 404
    assert login_as("client").get(f"/visits/{visit_ids['visit']}/form").status_code == 403
    assert stored(app, visit_ids["visit"], visit_ids["q"]["q1"]) is None


def test_submit_refused_until_complete_then_read_only(app, login_as, visit_ids):
    b = login_as("evaluator")
    vid = visit_ids["visit"]
    b.post(f"/visits/{vid}/start")
    answer_all(b, visit_ids, {"q1": True, "q2": 7, "q3": None, "q5": True})  # q4 (required) missing
    r = b.post(f"/visits/{vid}/submit")
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Was your identity verified?" in page  # names the missing question
    assert f"/visits/{vid}/form?section=2" in page  # and links to its section
    assert status_of(app, vid) == "in_progress"
    assert save(b, vid, visit_ids["q"]["q4"], False).status_code == 200
    r = b.post(f"/visits/{vid}/submit")
    assert r.status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.status == "submitted" and visit.submitted_at and visit.score_overall is not None
    # double submit: a clear message, not an error
    r = b.post(f"/visits/{vid}/submit", follow_redirects=True)
    assert r.status_code == 200 and "on jo lähetetty" in r.get_data(as_text=True)
    # answers can no longer be changed
    r = save(b, vid, visit_ids["q"]["q1"], False)
    assert r.status_code == 409
    assert r.get_json()["error"] == "Käynti on lähetetty; vastauksia ei voi enää muuttaa."
    assert stored(app, vid, visit_ids["q"]["q1"]).value is True
    page = b.get(f"/visits/{vid}/form").get_data(as_text=True)
    assert 'id="read-only-note"' in page and "submissions.js" not in page


def test_photo_required_blocks_submission(app, world, login_as):
    from audit_app.evidence.models import Photo

    doc = factories.small_doc()
    doc["sections"][1]["questions"][1]["photo"] = "required"  # q5
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version(doc)
        visit = factories.make_visit(client, evaluator, version, status="in_progress")
        for key, value in factories.WORKED_EXAMPLE.items():
            factories.answer(visit, key, value, na=value is None)
        db.session.commit()
        vid = visit.id
        q5 = next(q.id for q in version.questions() if q.key == "q5")
    b = login_as("evaluator")
    r = b.post(f"/visits/{vid}/submit")
    assert r.status_code == 400 and "Were screens hidden from others?" in r.get_data(as_text=True)
    with app.app_context():
        db.session.add(Photo(visit_id=vid, question_id=q5, client_uid="p1", storage_key="k", report_key="r",
                             thumb_key="t", content_type="image/jpeg", size_bytes=1, width=1, height=1, sha256="0"))
        db.session.commit()
    assert b.post(f"/visits/{vid}/submit").status_code == 302
    assert status_of(app, vid) == "submitted"


def test_review_flow_return_resubmit_correct_approve(app, world, login_as, visit_ids):
    vid, q = visit_ids["visit"], visit_ids["q"]
    evaluator, admin = login_as("evaluator"), login_as("admin")
    admin.post("/language", {"language": "en"})  # messages checked below in English
    client, other_client = login_as("client"), login_as("other_client")
    evaluator.post(f"/visits/{vid}/start")
    answer_all(evaluator, visit_ids)
    assert evaluator.post(f"/visits/{vid}/submit").status_code == 302

    queue = admin.get("/admin/review").get_data(as_text=True)
    assert f"/admin/visits/{vid}/review" in queue
    review = admin.get(f"/admin/visits/{vid}/review").get_data(as_text=True)
    assert "33.3" in review and "A critical question failed." in review

    # returning needs a comment
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "  "}).status_code == 400
    assert status_of(app, vid) == "submitted"
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "Please time the queue again."}).status_code == 302
    assert status_of(app, vid) == "returned"
    page = evaluator.get(f"/visits/{vid}/form").get_data(as_text=True)
    assert "Please time the queue again." in page and "submissions.js" in page
    # not visible to the client before approval
    assert client.get(f"/visits/{vid}/form").status_code == 403
    with app.app_context():
        from audit_app.accounts.models import User

        visit = db.session.get(Visit, vid)
        assert not visit.visible_to(db.session.get(User, world.ids["client_user"]))

    assert save(evaluator, vid, q["q2"], 1).status_code == 200
    assert evaluator.post(f"/visits/{vid}/submit").status_code == 302
    assert status_of(app, vid) == "submitted"

    # a correction needs a reason; a bad value is refused
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q4"], "value": "yes", "reason": ""})
    assert r.status_code == 400
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q3"], "value": "9", "reason": "typo"})
    assert r.status_code == 400
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q4"], "value": "yes",
                                                    "reason": "The recording shows identity was verified."})
    assert r.status_code == 302
    review = admin.get(f"/admin/visits/{vid}/review").get_data(as_text=True)
    assert "The recording shows identity was verified." in review
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.score_critical_fail is False
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.visit_id == vid,
                                                           AuditEvent.action == "correction"))
        assert event.field == "q4" and event.old_value == {"value": False, "na": False}
        assert event.new_value == {"value": True, "na": False} and event.user_id == world.ids["admin"]
        changed = db.session.scalar(select(AuditEvent).where(AuditEvent.visit_id == vid,
                                                             AuditEvent.action == "answer_changed"))
        assert changed.field == "q2" and changed.old_value["value"] == 7 and changed.new_value["value"] == 1

    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.status == "approved" and visit.approved_at
        expected = score_visit(visit.checklist_version.to_spec(), scoring_answers(visit), visit.channel)
        assert visit.score_overall == expected.overall
        assert visit.score_data == expected.as_dict()
        assert {d.dimension: d.score for d in visit.dimension_scores} == expected.dimensions
        from audit_app.accounts.models import User

        assert visit.visible_to(db.session.get(User, world.ids["client_user"]))
        assert not visit.visible_to(db.session.get(User, world.ids["other_client_user"]))
        actions = [e.action for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.visit_id == vid).order_by(AuditEvent.id))]
        assert actions == ["status", "status", "returned", "answer_changed", "resubmitted", "correction", "approved"]
    # scores are frozen: no later correction
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q1"], "value": "no", "reason": "late"})
    assert r.status_code == 409
    assert stored(app, vid, q["q1"]).value is True
    # approving twice, returning an approved visit: refused, not a 500
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 409
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "again"}).status_code == 409
    assert other_client.get(f"/admin/visits/{vid}/review").status_code == 403


def test_reject_needs_a_reason(app, login_as, visit_ids):
    vid = visit_ids["visit"]
    evaluator, admin = login_as("evaluator"), login_as("admin")
    answer_all(evaluator, visit_ids)
    evaluator.post(f"/visits/{vid}/submit")
    assert admin.post(f"/admin/visits/{vid}/reject", {"reason": ""}).status_code == 400
    assert admin.post(f"/admin/visits/{vid}/reject", {"reason": "The visit was made on the wrong day."}).status_code == 302
    assert status_of(app, vid) == "rejected"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "rejected"))
        assert event.comment == "The visit was made on the wrong day." and event.old_value == "submitted"
    assert save(evaluator, vid, visit_ids["q"]["q1"], False).status_code == 409


def test_review_of_another_tenant_and_missing_visit(login_as, visit_ids):
    admin = login_as("admin")
    assert admin.get("/admin/visits/999999/review").status_code == 404
    assert admin.post("/admin/visits/999999/approve").status_code == 404
    r = admin.post(f"/admin/visits/{visit_ids['visit']}/correct",
                   {"question_id": visit_ids["other_q"]["q1"], "value": "yes", "reason": "x"})
    assert r.status_code in (400, 409)
    r = admin.post(f"/admin/visits/{visit_ids['visit']}/correct", {"question_id": 10**25, "value": "yes", "reason": "x"})
    assert r.status_code in (400, 409)
    assert admin.get(f"/admin/visits/{10**25}/review").status_code == 404


def test_question_ids_are_per_version(app, visit_ids):
    with app.app_context():
        assert db.session.get(Question, visit_ids["other_q"]["q1"]).version_id != db.session.get(
            Question, visit_ids["q"]["q1"]).version_id


def test_admin_flows_end_to_end(app, world, login_as):
    """Issue 4, "done means": a wave created, a visit returned and resubmitted, an answer corrected
    with its trail (who, when, what, old and new value), a visit approved and visible to its client only."""
    import re
    from datetime import date

    with app.app_context():
        client_a = db.session.merge(world.client_a)
        version = factories.make_version()
        location = factories.make_location(client_a, name="Esplanadi branch")
        factories.make_client_channel(client_a, channel="phone", label="Customer service")
        db.session.commit()
        version_id, location_id = version.id, location.id
        q = {question.key: question.id for question in version.questions()}
    admin, evaluator = login_as("admin"), login_as("evaluator")
    admin.post("/language", {"language": "en"})
    client, other_client, other_evaluator = login_as("client"), login_as("other_client"), login_as("other_evaluator")

    # the wave: one visit per location and channel, all for the chosen checklist and period
    start, end = date.today(), date.today() + timedelta(days=14)
    r = admin.post(f"/admin/waves/new?client_id={world.ids['client_a']}", {
        "name": "Autumn wave", "checklist_version_id": version_id, "period_start": start.isoformat(),
        "period_end": end.isoformat(), "channels": ["in_person", "phone"], "location_ids": [location_id],
        "evaluator_ids": [world.ids["evaluator"]], "scenario": "Ask how to move a pension payment date.",
    })
    assert r.status_code == 302
    with app.app_context():
        visits = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        assert [(v.channel, v.location_id, v.evaluator_id, v.wave.name, v.due_to) for v in visits] == [
            ("in_person", location_id, world.ids["evaluator"], "Autumn wave", end),
            ("phone", location_id, world.ids["evaluator"], "Autumn wave", end)]
        vid, first_id = visits[1].id, visits[0].id
    my = evaluator.get("/my/visits").get_data(as_text=True)
    assert f"/visits/{vid}/form" in my and "Ask how to move a pension payment date." in my

    # the evaluator does the phone visit and submits it
    evaluator.post(f"/visits/{vid}/start")
    answer_all(evaluator, {"visit": vid, "q": q})
    assert evaluator.post(f"/visits/{vid}/submit").status_code == 302
    # not released yet: the client cannot see it
    assert client.get(f"/reports/visits/{vid}").status_code == 404

    # returned with a comment; the evaluator sees it, fixes an answer and resubmits
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "Time the queue again, please."}).status_code == 302
    assert status_of(app, vid) == "returned"
    assert "Time the queue again, please." in evaluator.get("/my/visits").get_data(as_text=True)
    assert "Time the queue again, please." in evaluator.get(f"/visits/{vid}/form").get_data(as_text=True)
    assert save(evaluator, vid, q["q2"], 3).status_code == 200
    assert evaluator.post(f"/visits/{vid}/submit").status_code == 302
    assert status_of(app, vid) == "submitted"

    # the reviewer corrects an answer with a reason: scores recomputed, the trail says who, when, what, old, new
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q4"], "value": "yes",
                                                    "reason": "The call recording shows identity was checked."})
    assert r.status_code == 302
    review = admin.get(f"/admin/visits/{vid}/review").get_data(as_text=True)
    trail = review[review.index('id="audit-trail"'):]
    rows = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", trail, re.S)]
    correction = next(row for row in rows if "Correction" in row)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.visit_id == vid,
                                                           AuditEvent.action == "correction"))
        assert event.user_id == world.ids["admin"] and event.field == "q4"
        assert (event.old_value, event.new_value) == ({"value": False, "na": False}, {"value": True, "na": False})
        from babel.dates import format_date, format_time
        when = f"{format_date(event.at, 'medium', locale='en')} {format_time(event.at, 'short', locale='en')}".replace("\u202f", " ")
    assert when in correction and "Admin" in correction                     # when, who
    assert "Was your identity verified?" in correction                       # what
    assert "No → Yes" in correction                                          # old and new value
    assert "The call recording shows identity was checked." in correction    # why
    changed = next(row for row in rows if "Answer changed by the evaluator" in row)
    assert "Eva Evaluator" in changed and "Minutes in the queue?" in changed and "7 → 3" in changed
    assert any("Returned" in row and "Time the queue again, please." in row for row in rows)
    assert any("Resubmitted" in row for row in rows)
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.score_critical_fail is False
        expected = score_visit(visit.checklist_version.to_spec(), scoring_answers(visit), visit.channel)
        assert visit.score_overall == expected.overall

    # approved: released to client A only, with its stored scores frozen
    assert admin.post(f"/admin/visits/{vid}/approve").status_code == 302
    assert status_of(app, vid) == "approved"
    page = client.get(f"/reports/visits/{vid}")
    assert page.status_code == 200 and "Esplanadi branch" in page.get_data(as_text=True)
    assert "Eva Evaluator" not in page.get_data(as_text=True)
    assert other_client.get(f"/reports/visits/{vid}").status_code == 404
    assert other_evaluator.get(f"/visits/{vid}/form").status_code == 404
    # the other visit of the wave is not released
    assert client.get(f"/reports/visits/{first_id}").status_code == 404
    review = admin.get(f"/admin/visits/{vid}/review").get_data(as_text=True)
    assert "Approved" in review[review.index('id="audit-trail"'):]


def test_nul_characters_are_dropped(app, login_as, visit_ids):
    """A NUL pasted into a comment or text answer is dropped: no database error, no answer retried forever."""
    b = login_as("evaluator")
    vid, q = visit_ids["visit"], visit_ids["q"]
    assert save(b, vid, q["q1"], True, comment="Good\x00 service").status_code == 200
    assert save(b, vid, q["q6"], "Fri\x00endly").status_code == 200
    assert (stored(app, vid, q["q1"]).comment, stored(app, vid, q["q6"]).value) == ("Good service", "Friendly")
    answer_all(b, visit_ids)
    assert b.post(f"/visits/{vid}/submit").status_code == 302
    admin = login_as("admin")
    r = admin.post(f"/admin/visits/{vid}/correct", {"question_id": q["q4"], "value": "yes", "reason": "Chec\x00ked"})
    assert r.status_code == 302
    assert admin.post(f"/admin/visits/{vid}/return", {"comment": "Ag\x00ain"}).status_code == 302
    with app.app_context():
        assert db.session.get(Visit, vid).return_comment == "Again"
