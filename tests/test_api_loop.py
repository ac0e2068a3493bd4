"""/api/v1 for waves, generated reports and the close-the-loop objects (targets, self-assessments,
corrective actions): the same operations and access rules as the pages, for every role and both
clients; read tokens cannot write; errors are translated problem documents; lists page by cursor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit_app.accounts import tokens
from audit_app.extensions import db
from tests.factories import make_location, make_scored_visit, make_version, make_visit

PROBLEM = "application/problem+json"


def _token(app, user_id, scope="read write"):
    from audit_app.accounts.models import User

    with app.app_context():
        _row, secret = tokens.create_token(db.session.get(User, user_id), name="CRM", scope=scope,
                                           expires_on=date.today() + timedelta(days=30))
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def auth(app, world):
    """Headers per caller: read-write tokens of every role, a read token of the admin and of the manager."""
    from audit_app.accounts.models import User

    with app.app_context():
        db.session.get(User, world.ids["client_user"]).manager = True  # client A's user manages the loop
        db.session.commit()
    out = {role: _token(app, world.ids[key]) for role, key in (
        ("admin", "admin"), ("evaluator", "evaluator"), ("client", "client_user"), ("other", "other_client_user"))}
    out["admin_read"] = _token(app, world.ids["admin"], scope="read")
    out["client_read"] = _token(app, world.ids["client_user"], scope="read")
    out["anonymous"] = {}
    return out


def _speaks(app, user_id, language):
    """The user's language: the API answers in it, as the pages do."""
    from audit_app.accounts.models import User

    with app.app_context():
        db.session.get(User, user_id).language = language
        db.session.commit()


def _statuses(client, method, url, auth, roles, **kw):
    return {role: getattr(client, method)(url, headers=auth[role], **kw).status_code for role in roles}


ROLES = ("anonymous", "admin", "evaluator", "client", "other")


# --- waves ------------------------------------------------------------------------------------


def test_wave_created_through_the_api_as_on_the_wave_page(app, world, auth):
    with app.app_context():
        version_id = make_version().id
        kamppi = make_location(world.client_a, name="Kamppi").id
        aleksi = make_location(world.client_a, name="Aleksi").id
        other_location = make_location(world.client_b, name="Elsewhere").id
        db.session.commit()
    client = app.test_client()
    body = {"client_id": world.ids["client_a"], "name": "Spring 2027", "checklist_version_id": version_id,
            "period_start": "2027-03-01", "period_end": "2027-03-31", "channels": ["in_person", "phone"],
            "location_ids": [kamppi, aleksi], "evaluator_ids": [world.ids["evaluator"], world.ids["evaluator2"]]}
    made = client.post("/api/v1/waves", json=body, headers=auth["admin"])
    assert made.status_code == 201, made.json
    wave = made.json
    assert wave["name"] == "Spring 2027" and len(wave["visit_ids"]) == 4  # 2 locations × 2 channels
    listed = client.get(f"/api/v1/visits?wave_id={wave['id']}", headers=auth["admin"]).json["items"]
    assert sorted(v["id"] for v in listed) == wave["visit_ids"]
    # locations in the order of their names, evaluators round-robin in the order of theirs (as the page)
    first = min(listed, key=lambda v: v["id"])
    assert first["location_id"] == aleksi and first["channel"] == "in_person"
    assert first["evaluator_id"] == world.ids["evaluator"]
    assert {v["status"] for v in listed} == {"assigned"}
    assert client.get(f"/api/v1/waves/{wave['id']}", headers=auth["admin"]).json == wave
    # who may: a read-write admin token only
    refused = _statuses(client, "post", "/api/v1/waves", auth, ("anonymous", "admin_read", "evaluator", "client",
                                                                "other"), json=body)
    assert refused == {"anonymous": 401, "admin_read": 403, "evaluator": 403, "client": 403, "other": 403}
    assert _statuses(client, "get", f"/api/v1/waves/{wave['id']}", auth, ("client", "other", "evaluator")) == {
        "client": 403, "other": 403, "evaluator": 403}
    # the operation's refusals, in the caller's language; nothing is created
    no_channel = client.post("/api/v1/waves", json={**body, "channels": []}, headers=auth["admin"])
    assert no_channel.status_code == 400 and no_channel.mimetype == PROBLEM
    assert no_channel.json["errors"]["channels"] == ["Valitse vähintään yksi kanava."]
    _speaks(app, world.ids["admin"], "en")
    english = client.post("/api/v1/waves", json={**body, "location_ids": [other_location]}, headers=auth["admin"])
    assert english.status_code == 400
    assert english.json["detail"] == "The location belongs to another client."
    backwards = client.post("/api/v1/waves", json={**body, "period_end": "2027-02-01"}, headers=auth["admin"])
    assert backwards.status_code == 400 and backwards.json["detail"] == "The end date cannot be before the start date."
    assert client.post("/api/v1/waves", json={**body, "client_id": 2**31 - 1}, headers=auth["admin"]).status_code == 404
    bad = client.post("/api/v1/waves", json={**body, "channels": ["carrier pigeon"]}, headers=auth["admin"])
    assert bad.status_code == 422 and bad.json["errors"]["channels"]
    assert len(client.get("/api/v1/visits", headers=auth["admin"]).json["items"]) == 4


# --- generated reports ------------------------------------------------------------------------


@pytest.fixture
def visits(app, world):
    with app.app_context():
        version = make_version()
        location = make_location(world.client_a, name="Kamppi")
        approved_a = make_scored_visit(world.client_a, world.evaluator, version, location=location)
        submitted_a = make_scored_visit(world.client_a, world.evaluator, version, status="submitted")
        approved_b = make_scored_visit(world.client_b, world.evaluator2, version)
        db.session.commit()
        return {"approved_a": approved_a.id, "submitted_a": submitted_a.id, "approved_b": approved_b.id,
                "location_a": location.id, "version": version.id}


def test_reports_requested_followed_and_downloaded_as_on_the_pages(app, world, auth, visits):
    client = app.test_client()
    made = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "visit",
                                                "ref": str(visits["approved_a"])}, headers=auth["client"])
    assert made.status_code == 202, made.json
    report = made.json
    assert report["state"] == "done" and report["download_url"].endswith(f"/api/v1/reports/{report['id']}/download")
    assert report["title"].startswith("Käyntiraportti")  # the title the pages show, in the caller's language
    status = client.get(f"/api/v1/reports/{report['id']}", headers=auth["client"])
    assert status.status_code == 200 and status.json["state"] == "done"
    pdf = client.get(f"/api/v1/reports/{report['id']}/download", headers=auth["client"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert "attachment" in pdf.headers["Content-Disposition"]
    # another client's token, an evaluator's, nobody
    for url in (f"/api/v1/reports/{report['id']}", f"/api/v1/reports/{report['id']}/download"):
        assert _statuses(client, "get", url, auth, ("anonymous", "evaluator", "other", "admin")) == {
            "anonymous": 401, "evaluator": 403, "other": 404, "admin": 200}
    # an admin's report of a visit not approved is internal: its client gets 404, and it is not listed
    internal = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "visit",
                                                    "ref": str(visits["submitted_a"]), "language": "en"},
                           headers=auth["admin"])
    assert internal.status_code == 202 and internal.json["language"] == "en"
    assert client.get(f"/api/v1/reports/{internal.json['id']}", headers=auth["client"]).status_code == 404
    assert client.get(f"/api/v1/reports/{internal.json['id']}/download", headers=auth["client"]).status_code == 404
    listed = client.get("/api/v1/reports", headers=auth["client"]).json
    assert [r["id"] for r in listed["items"]] == [report["id"]]
    assert client.get("/api/v1/reports", headers=auth["other"]).json["items"] == []
    assert [r["id"] for r in client.get("/api/v1/reports", headers=auth["admin"]).json["items"]] == [
        internal.json["id"]]  # an admin's list: the reports the admin requested, as "My reports"
    # a client cannot ask for a report of a visit not released or of another client; nor on B's behalf
    for body in ({"client_id": world.ids["client_a"], "scope": "visit", "ref": str(visits["submitted_a"])},
                 {"client_id": world.ids["client_a"], "scope": "visit", "ref": str(visits["approved_b"])},
                 {"client_id": world.ids["client_b"], "scope": "client"}):
        assert client.post("/api/v1/reports", json=body, headers=auth["client"]).status_code == 404
    # the pages' refusals: a period over five years, an unknown channel; read tokens and evaluators cannot ask
    long = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "client",
                                                "start": "2015-01-01", "end": "2026-01-01"}, headers=auth["client"])
    assert long.status_code == 400 and long.json["detail"] == "Valitse enintään viiden vuoden jakso."
    odd = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "channel", "ref": "fax"},
                      headers=auth["client"])
    assert odd.status_code == 400 and odd.mimetype == PROBLEM
    body = {"client_id": world.ids["client_a"], "scope": "location", "ref": str(visits["location_a"])}
    assert _statuses(client, "post", "/api/v1/reports", auth, ("client_read", "evaluator", "anonymous", "other"),
                     json=body) == {"client_read": 403, "evaluator": 403, "anonymous": 401, "other": 404}
    bad = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "galaxy"},
                      headers=auth["client"])
    assert bad.status_code == 422 and bad.json["errors"]["scope"] == ["Valitse arvo listasta."]


def test_report_withdrawn_visit_hides_it_from_the_client(app, world, auth, visits):
    from audit_app.visits.models import Visit

    client = app.test_client()
    made = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "visit",
                                                "ref": str(visits["approved_a"])}, headers=auth["admin"]).json
    assert client.get(f"/api/v1/reports/{made['id']}", headers=auth["client"]).status_code == 200
    with app.app_context():
        db.session.get(Visit, visits["approved_a"]).status = "submitted"  # reopened for a correction
        db.session.commit()
    assert client.get(f"/api/v1/reports/{made['id']}", headers=auth["client"]).status_code == 404
    assert client.get(f"/api/v1/reports/{made['id']}", headers=auth["admin"]).status_code == 200


def test_report_is_queued_for_a_worker_when_redis_is_set(app, world, auth, visits, monkeypatch):
    from audit_app.reports import jobs

    queued = []
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setattr(jobs, "check_queue", lambda: None)
    monkeypatch.setattr(jobs, "enqueue", queued.append)
    client = app.test_client()
    made = client.post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "client"},
                       headers=auth["client"])
    assert made.status_code == 202 and made.json["state"] == "queued" and made.json["download_url"] is None
    assert queued == [made.json["id"]]  # queued once the request committed
    assert client.get(f"/api/v1/reports/{made.json['id']}/download", headers=auth["client"]).status_code == 404


# --- targets ----------------------------------------------------------------------------------


def test_targets_read_by_the_client_and_admins_written_by_its_managers(app, world, auth):
    client = app.test_client()
    url = f"/api/v1/clients/{world.ids['client_a']}/targets"
    body = {"dimension": "overall", "channel": None, "value": 80, "applies_from": "2026-01-01"}
    assert _statuses(client, "post", url, auth, ("anonymous", "admin", "evaluator", "other", "client_read"),
                     json=body) == {"anonymous": 401, "admin": 403, "evaluator": 403, "other": 404,
                                    "client_read": 403}
    made = client.post(url, json=body, headers=auth["client"])
    assert made.status_code == 201 and made.json["value"] == 80
    again = client.post(url, json={**body, "value": 85}, headers=auth["client"])  # same scope and day: replaced
    assert again.json["id"] == made.json["id"] and again.json["value"] == 85
    privacy = client.post(url, json={**body, "dimension": "privacy", "channel": "phone"}, headers=auth["client"])
    assert privacy.status_code == 201
    assert _statuses(client, "get", url, auth, ROLES) == {"anonymous": 401, "admin": 200, "evaluator": 403,
                                                          "client": 200, "other": 404}
    first = client.get(url + "?limit=1", headers=auth["client"]).json
    assert [t["id"] for t in first["items"]] == [made.json["id"]] and first["next_cursor"]
    second = client.get(url + f"?limit=1&cursor={first['next_cursor']}", headers=auth["client"]).json
    assert [t["id"] for t in second["items"]] == [privacy.json["id"]] and second["next_cursor"] is None
    one = f"/api/v1/targets/{privacy.json['id']}"
    assert _statuses(client, "get", one, auth, ROLES) == {"anonymous": 401, "admin": 200, "evaluator": 403,
                                                          "client": 200, "other": 404}
    assert _statuses(client, "delete", one, auth, ("admin", "other", "client_read", "evaluator")) == {
        "admin": 403, "other": 404, "client_read": 403, "evaluator": 403}
    assert client.delete(one, headers=auth["client"]).status_code == 204
    assert client.get(one, headers=auth["client"]).status_code == 404
    # bad input: the page's messages
    unknown = client.post(url, json={**body, "dimension": "luck"}, headers=auth["client"])
    assert unknown.status_code == 400 and unknown.json["errors"]["dimension"] == ["Valitse pisteet luettelosta."]
    high = client.post(url, json={**body, "value": 101}, headers=auth["client"])
    assert high.status_code == 422 and high.json["errors"]["value"] == ["Arvo on sallitun alueen ulkopuolella."]


# --- self-assessments -------------------------------------------------------------------------


def test_self_assessments_are_read_only_and_scoped(app, world, auth):
    from audit_app.accounts.models import User
    from audit_app.improvement import operations

    with app.app_context():
        version = make_version()
        manager = db.session.get(User, world.ids["client_user"])
        sa = operations.start_self_assessment(world.ids["client_a"], manager, version=version, channel="phone",
                                              location=None)
        questions = {q.key: q.id for q in version.questions()}
        operations.save_self_answers(sa, {questions["q1"]: (True, False, "Easy"), questions["q2"]: (3, False, ""),
                                          questions["q3"]: (4, False, ""), questions["q4"]: (False, False, ""),
                                          questions["q5"]: (True, False, "")})
        assert operations.submit_self_assessment(sa) == []
        db.session.commit()
        sa_id = sa.id
    client = app.test_client()
    url = f"/api/v1/clients/{world.ids['client_a']}/self-assessments"
    assert _statuses(client, "get", url, auth, ROLES) == {"anonymous": 401, "admin": 200, "evaluator": 403,
                                                          "client": 200, "other": 404}
    listed = client.get(url, headers=auth["client"]).json["items"]
    assert [s["id"] for s in listed] == [sa_id] and listed[0]["status"] == "submitted"
    one = client.get(f"/api/v1/self-assessments/{sa_id}", headers=auth["client"]).json
    assert one["score_overall"] is not None and one["dimension_scores"]
    answers = {a["question_key"]: a for a in one["answers"]}
    assert answers["q1"]["comment"] == "Easy" and answers["q4"]["failed"] is True
    assert _statuses(client, "get", f"/api/v1/self-assessments/{sa_id}", auth, ROLES) == {
        "anonymous": 401, "admin": 200, "evaluator": 403, "client": 200, "other": 404}


# --- corrective actions -----------------------------------------------------------------------


def test_corrective_actions_with_the_pages_rules(app, world, auth, visits):
    client = app.test_client()
    url = f"/api/v1/clients/{world.ids['client_a']}/actions"
    due = (date.today() + timedelta(days=14)).isoformat()
    body = {"visit_id": visits["approved_a"], "question_key": "q4", "what": "Verify identity before anything",
            "owner_id": world.ids["client_user"], "due_on": due}
    assert _statuses(client, "post", url, auth, ("anonymous", "admin", "evaluator", "other", "client_read"),
                     json=body) == {"anonymous": 401, "admin": 403, "evaluator": 403, "other": 404,
                                    "client_read": 403}
    made = client.post(url, json=body, headers=auth["client"])
    assert made.status_code == 201, made.json
    action = made.json
    assert action["status"] == "open" and action["question_key"] == "q4" and not action["overdue"]
    assert [e["kind"] for e in action["events"]] == ["created"]
    # only a failed item of a released visit of the client; a location needs one of its failed questions
    for bad in ({**body, "question_key": "q1"}, {**body, "visit_id": visits["submitted_a"]},
                {**body, "visit_id": visits["approved_b"]}, {**body, "visit_id": None},
                {**body, "visit_id": None, "location_id": visits["location_a"], "question_id": 2**31 - 1}):
        assert client.post(url, json=bad, headers=auth["client"]).status_code == 404, bad
    no_question = client.post(url, json={**body, "visit_id": None, "location_id": visits["location_a"]},
                              headers=auth["client"])
    assert no_question.status_code == 400 and no_question.json["errors"]["question_id"]
    with app.app_context():
        from sqlalchemy import select

        from audit_app.checklists.models import Question

        q4 = db.session.scalar(select(Question.id).where(Question.version_id == visits["version"],
                                                         Question.key == "q4"))
    by_location = client.post(url, json={**body, "visit_id": None, "location_id": visits["location_a"],
                                         "question_id": q4, "owner_id": world.ids["client_user"]},
                              headers=auth["client"])
    assert by_location.status_code == 201 and by_location.json["location_id"] == visits["location_a"]
    assert by_location.json["channel"] is None
    wrong_owner = client.post(url, json={**body, "owner_id": world.ids["other_client_user"]}, headers=auth["client"])
    assert wrong_owner.status_code == 400 and wrong_owner.json["errors"]["owner_id"]
    empty = client.post(url, json={**body, "what": "   "}, headers=auth["client"])
    assert empty.status_code == 400 and empty.json["detail"] == "Kerro, mitä tehdään."
    # reading: the list with the page's filters, an action with its history
    assert _statuses(client, "get", url, auth, ROLES) == {"anonymous": 401, "admin": 200, "evaluator": 403,
                                                          "client": 200, "other": 404}
    assert len(client.get(url, headers=auth["admin"]).json["items"]) == 2
    assert [a["id"] for a in client.get(url + f"?location_id={visits['location_a']}&channel=phone",
                                        headers=auth["client"]).json["items"]] == [action["id"]]
    assert client.get(url + "?overdue=true", headers=auth["client"]).json["items"] == []
    assert client.get(url + "?status=galaxy", headers=auth["client"]).status_code == 422
    one = f"/api/v1/actions/{action['id']}"
    assert _statuses(client, "get", one, auth, ROLES) == {"anonymous": 401, "admin": 200, "evaluator": 403,
                                                          "client": 200, "other": 404}
    # status changes as the page allows them, by its managers only
    move = one + "/status"
    assert _statuses(client, "post", move, auth, ("admin", "evaluator", "other", "client_read"),
                     json={"status": "in_progress"}) == {"admin": 403, "evaluator": 403, "other": 404,
                                                         "client_read": 403}
    started = client.post(move, json={"status": "in_progress", "comment": "On it"}, headers=auth["client"])
    assert started.status_code == 200 and started.json["status"] == "in_progress"
    assert started.json["events"][-1]["new_status"] == "in_progress"
    assert started.json["events"][-1]["comment"] == "On it"
    verified = client.post(move, json={"status": "verified"}, headers=auth["client"])
    assert verified.status_code == 409 and verified.json["detail"] == "Tätä tilan muutosta ei voi tehdä."
    done = client.post(move, json={"status": "done"}, headers=auth["client"])
    assert done.json["status"] == "done" and done.json["done_at"]
    assert client.get(url + "?status=done", headers=auth["client"]).json["items"][0]["id"] == action["id"]
    # comments
    note = one + "/comments"
    assert _statuses(client, "post", note, auth, ("admin", "other", "client_read"), json={"text": "x"}) == {
        "admin": 403, "other": 404, "client_read": 403}
    commented = client.post(note, json={"text": "Trained the team"}, headers=auth["client"])
    assert commented.status_code == 201 and commented.json["events"][-1]["kind"] == "comment"
    blank = client.post(note, json={"text": " "}, headers=auth["client"])
    assert blank.status_code == 400 and blank.json["detail"] == "Kirjoita kommentti."


def test_an_overdue_action_is_marked_and_filtered(app, world, auth, visits):
    from sqlalchemy import select

    from audit_app.accounts.models import User
    from audit_app.checklists.models import Question
    from audit_app.improvement import operations
    from audit_app.visits.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, visits["approved_a"])
        question = db.session.scalar(select(Question).where(Question.version_id == visit.checklist_version_id,
                                                            Question.key == "q4"))
        owner = db.session.get(User, world.ids["client_user"])
        late = operations.create_action(visit.client_id, owner, question=question, what="Late", owner=owner,
                                        due_on=date.today() - timedelta(days=1), visit=visit)
        db.session.commit()
        late_id = late.id
    client = app.test_client()
    items = client.get(f"/api/v1/clients/{world.ids['client_a']}/actions?overdue=true",
                       headers=auth["client"]).json["items"]
    assert [a["id"] for a in items] == [late_id] and items[0]["overdue"] is True


def test_the_description_covers_the_new_endpoints(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    for path in ("/api/v1/waves", "/api/v1/reports", "/api/v1/reports/{report_id}/download",
                 "/api/v1/clients/{client_id}/targets", "/api/v1/targets/{target_id}",
                 "/api/v1/clients/{client_id}/self-assessments", "/api/v1/self-assessments/{assessment_id}",
                 "/api/v1/clients/{client_id}/actions", "/api/v1/actions/{action_id}/status",
                 "/api/v1/actions/{action_id}/comments"):
        assert path in spec["paths"], path
    assert "delete" in spec["paths"]["/api/v1/targets/{target_id}"]
    assert "ActionIn" in spec["components"]["schemas"]


def test_an_unused_visit_is_not_a_report_subject(app, world, auth):
    with app.app_context():
        assigned = make_visit(world.client_a, world.evaluator, make_version()).id
        db.session.commit()
    made = app.test_client().post("/api/v1/reports", json={"client_id": world.ids["client_a"], "scope": "visit",
                                                           "ref": str(assigned)}, headers=auth["admin"])
    assert made.status_code == 400 and made.json["errors"]["scope"]
