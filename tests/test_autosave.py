"""The autosave of an evaluator's answer (``POST /visits/<id>/answers``) on its one path: the view
loads the visit through ``get_for_client`` (locked on PostgreSQL), the operation checks the
answer and writes it with one last-writer-wins upsert, and the request commits at the edge (a
refusal rolls everything back). Each case pins what the evaluator gets (status, code, message) and
what is stored or not. An answer racing a submit, dropped connections and answers sent at once are
in ``test_faults_postgresql.py``; a request dying inside a save is in ``test_faults.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from audit_app.accounts.models import User
from audit_app.extensions import db
from audit_app.submissions.models import Answer, AuditEvent
from audit_app.visits.models import Visit

from . import factories

# --- fixtures and helpers (test_faults_postgresql imports them too) -----------------------------------


@pytest.fixture
def setup(app, world):
    """Eva's phone visit in progress and a second one of hers on another checklist version."""
    with app.app_context():
        client = db.session.merge(world.client_a)
        eva = db.session.merge(world.evaluator)
        version, other_version = factories.make_version(), factories.make_version()
        visit = factories.make_visit(client, eva, version, status="in_progress")
        other = factories.make_visit(client, eva, other_version, status="in_progress")
        db.session.commit()
        return {"visit": visit.id, "other_visit": other.id, "q": {q.key: q.id for q in version.questions()},
                "other_q": {q.key: q.id for q in other_version.questions()}}


def moment(minutes: float = 0) -> str:
    """The device's time of an answer: 1 March 2026 12:00 UTC plus ``minutes``, as the phone sends it."""
    return (datetime(2026, 3, 1, 12, 0) + timedelta(minutes=minutes)).replace(tzinfo=UTC).isoformat()


def at(minutes: float = 0) -> datetime:
    """``moment(minutes)`` as it is stored (naive UTC)."""
    return datetime(2026, 3, 1, 12, 0) + timedelta(minutes=minutes)


def save(b, visit_id, question_id, value, at, **extra):
    payload = {"question_id": question_id, "value": value, "na": False, "comment": "", "answered_at": at,
               "client_id": "c-1", **extra}
    return b.post_json(f"/visits/{visit_id}/answers", payload)


def stored(app, visit_id, question_id):
    """The stored answer, read in a fresh session (None: nothing stored)."""
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(Answer).where(Answer.visit_id == visit_id, Answer.question_id == question_id))


def answered(b, setup):
    """Eva's earlier answers at 12:00: q1 yes and q3 3 on the visit, q1 yes on the other visit."""
    assert save(b, setup["visit"], setup["q"]["q1"], True, moment(0)).status_code == 200
    assert save(b, setup["visit"], setup["q"]["q3"], 3, moment(0)).status_code == 200
    assert save(b, setup["other_visit"], setup["other_q"]["q1"], True, moment(0)).status_code == 200


def _count_answers(app, visit_id) -> int:
    with app.app_context():
        db.session.remove()
        return len(db.session.scalars(select(Answer.id).where(Answer.visit_id == visit_id)).all())


def _events(app, visit_id) -> list[AuditEvent]:
    with app.app_context():
        db.session.remove()
        return list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.visit_id == visit_id).order_by(AuditEvent.id)
        ))


def _set_status(app, visit_id, status):
    with app.app_context():
        db.session.get(Visit, visit_id).status = status
        db.session.commit()


def _is_unchanged(row, value=True, minutes=0):
    """The earlier answer (``answered``) is still what is stored, whole."""
    return row is not None and (row.value, row.na, row.comment, row.answered_at) == (value, False, "", at(minutes))


# --- a saved answer --------------------------------------------------------------------------------


def test_an_answer_is_stored_with_its_comment_time_and_author(app, world, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1), comment="Hold music for 4 min")
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] is True and body["client_id"] == "c-1" and body["saved_at"].endswith("Z")
    assert "stale" not in body
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert row.value is False and row.na is False and row.comment == "Hold music for 4 min"
    assert row.answered_at == at(1)
    assert row.updated_by_id == world.ids["evaluator"]
    assert _count_answers(app, setup["visit"]) == 2  # q1 and q3: an update, not a second row


def test_an_na_answer_is_stored_without_a_value(app, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    assert save(b, setup["visit"], setup["q"]["q3"], 4, moment(1), na=True).status_code == 200  # q3 allows N/A
    row = stored(app, setup["visit"], setup["q"]["q3"])
    assert (row.value, row.na) == (None, True)


def test_the_last_writer_wins_by_the_devices_time(app, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(5), comment="later").status_code == 200
    # an earlier write arriving after it (the other device, or a queued retry) is stale: 200, nothing changes
    r = save(b, setup["visit"], setup["q"]["q1"], True, moment(2), comment="earlier")
    assert r.status_code == 200
    assert r.get_json()["ok"] is True and r.get_json()["stale"] is True and r.get_json()["client_id"] == "c-1"
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert (row.value, row.comment, row.answered_at) == (False, "later", at(5))
    # a write later than the stored one wins again
    assert "stale" not in save(b, setup["visit"], setup["q"]["q1"], True, moment(6)).get_json()
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_a_resent_answer_is_harmless(app, login_as, setup):
    b = login_as("evaluator")
    for _ in range(3):  # the phone did not hear the reply and sends the same answer again
        r = save(b, setup["visit"], setup["q"]["q2"], 7, moment(1), comment="same")
        assert r.status_code == 200 and r.get_json()["ok"] is True
    row = stored(app, setup["visit"], setup["q"]["q2"])
    assert (row.value, row.comment, row.answered_at) == (7, "same", at(1))
    assert _count_answers(app, setup["visit"]) == 1


def test_the_first_answer_starts_a_visit_not_started_yet(app, login_as, setup):
    _set_status(app, setup["visit"], "assigned")
    b = login_as("evaluator")
    assert save(b, setup["visit"], setup["q"]["q1"], True, moment(0)).status_code == 200
    with app.app_context():
        visit = db.session.get(Visit, setup["visit"])
        assert visit.status == "in_progress" and visit.started_at is not None
    assert save(b, setup["visit"], setup["q"]["q2"], 3, moment(1)).status_code == 200
    started = [e for e in _events(app, setup["visit"]) if e.field == "status"]
    assert [(e.old_value, e.new_value) for e in started] == [("assigned", "in_progress")]  # once
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_a_refused_first_answer_does_not_start_the_visit(app, login_as, setup):
    _set_status(app, setup["visit"], "assigned")
    r = save(login_as("evaluator"), setup["visit"], setup["q"]["q3"], 9, moment(0))  # the scale is 1-5
    assert r.status_code == 400 and r.get_json()["code"] == "invalid"
    with app.app_context():
        assert db.session.get(Visit, setup["visit"]).status == "assigned"
    assert _events(app, setup["visit"]) == [] and _count_answers(app, setup["visit"]) == 0


def test_a_device_clock_ahead_is_clamped_to_the_servers(app, login_as, setup):
    """A phone whose clock runs a day ahead must not make its answer unbeatable: it is stored at the
    server's time, so a later answer from a phone with a right clock still wins."""
    b = login_as("evaluator")
    now = datetime.now(UTC).replace(tzinfo=None)
    ahead = (now + timedelta(days=1)).replace(tzinfo=UTC).isoformat()
    assert save(b, setup["visit"], setup["q"]["q1"], True, ahead).status_code == 200
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert now - timedelta(minutes=1) <= row.answered_at <= datetime.now(UTC).replace(tzinfo=None)
    right = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    r = save(b, setup["visit"], setup["q"]["q1"], False, right)
    assert r.status_code == 200 and "stale" not in r.get_json()
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


def test_a_device_clock_slightly_ahead_is_kept(app, login_as, setup):
    b = login_as("evaluator")
    slightly = (datetime.now(UTC) + timedelta(minutes=2)).replace(microsecond=0)
    assert save(b, setup["visit"], setup["q"]["q1"], True, slightly.isoformat()).status_code == 200
    assert stored(app, setup["visit"], setup["q"]["q1"]).answered_at == slightly.replace(tzinfo=None)


def test_an_answer_without_a_time_is_stored_at_the_servers(app, login_as, setup):
    b = login_as("evaluator")
    before = datetime.now(UTC).replace(tzinfo=None)
    r = b.post_json(f"/visits/{setup['visit']}/answers", {"question_id": setup["q"]["q1"], "value": True})
    assert r.status_code == 200 and r.get_json()["client_id"] is None
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert row.value is True and row.comment == "" and before <= row.answered_at


def test_nul_characters_are_dropped(app, login_as, setup):
    """A NUL pasted into a comment or a text answer is dropped: no database error, no answer that
    the phone retries forever."""
    b = login_as("evaluator")
    assert save(b, setup["visit"], setup["q"]["q1"], True, moment(0), comment="Good\x00 service").status_code == 200
    assert save(b, setup["visit"], setup["q"]["q6"], "Fri\x00endly", moment(0)).status_code == 200
    assert stored(app, setup["visit"], setup["q"]["q1"]).comment == "Good service"
    assert stored(app, setup["visit"], setup["q"]["q6"]).value == "Friendly"


# --- refused answers: a clear message, and what is stored stays -------------------------------------


@pytest.mark.parametrize("key,value,na", [
    ("q3", 7, False),       # out of the scale's range
    ("q3", "3", False),     # a string for a scale
    ("q3", True, False),    # a boolean for a scale
    ("q1", None, True),     # q1 takes no N/A
    ("q1", "maybe", False),
    ("q2", "seven", False),
    ("q2", 1e300, False),   # absurdly large
    ("q6", 5, False),       # a number for a text question
    ("q6", "x" * 5001, False),
])
def test_a_value_that_does_not_fit_is_refused_with_its_message(app, login_as, setup, key, value, na):
    b = login_as("evaluator")
    answered(b, setup)
    before = stored(app, setup["visit"], setup["q"][key])
    r = save(b, setup["visit"], setup["q"][key], value, moment(1), na=na)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid" and r.get_json()["error"]
    after = stored(app, setup["visit"], setup["q"][key])
    if before is None:
        assert after is None
    else:
        assert _is_unchanged(after, before.value)


def test_a_comment_too_long_is_refused_and_the_stored_answer_kept(app, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1), comment="x" * 5001)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid"
    assert "5000" in r.get_json()["error"]  # "... at most 5000 characters", in the user's language
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(2), comment="x" * 5000).status_code == 200


def test_a_question_of_another_version_is_refused(app, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    r = save(b, setup["visit"], setup["other_q"]["q1"], True, moment(1))
    assert r.status_code == 400 and r.get_json()["code"] == "invalid" and "tarkistuslist" in r.get_json()["error"]
    assert stored(app, setup["visit"], setup["other_q"]["q1"]) is None
    assert _is_unchanged(stored(app, setup["other_visit"], setup["other_q"]["q1"]))


@pytest.mark.parametrize("question_id", [999999, 10**25, -(2**63), 0])
def test_a_question_that_does_not_exist_is_refused(app, login_as, setup, question_id):
    r = save(login_as("evaluator"), setup["visit"], question_id, True, moment(1))
    assert r.status_code == 400 and r.get_json()["code"] == "invalid"
    assert _count_answers(app, setup["visit"]) == 0


def test_a_question_of_another_channel_is_refused(app, world, login_as):
    with app.app_context():
        client = db.session.merge(world.client_a)
        eva = db.session.merge(world.evaluator)
        version = factories.make_version(factories.starter_doc())
        visit = factories.make_visit(client, eva, version, channel="email", status="in_progress")
        db.session.commit()
        phone_only = next(q for q in version.questions() if q.channels == ["phone"])
        visit_id, question_id = visit.id, phone_only.id
    r = save(login_as("evaluator"), visit_id, question_id, 3, moment(1))
    assert r.status_code == 400 and r.get_json()["code"] == "invalid" and r.get_json()["error"]
    assert stored(app, visit_id, question_id) is None


@pytest.mark.parametrize("payload", [
    {"na": "yes"},
    {"na": None},
    {"comment": 5},
    {"comment": ["a"]},
    {"answered_at": "yesterday"},
    {"answered_at": 12},
    {"answered_at": "2026-03-01T12:00:00" + " " * 60},
    {"question_id": "1"},
    {"question_id": True},
    {"question_id": None},
    {"question_id": 1.5},
    {"client_id": ["x"]},
    {"client_id": "x" * 65},
])
def test_wrong_json_types_are_refused(app, login_as, setup, payload):
    b = login_as("evaluator")
    answered(b, setup)
    data = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "", "answered_at": moment(1),
            **payload}
    r = b.post_json(f"/visits/{setup['visit']}/answers", data)
    assert r.status_code == 400 and r.get_json()["code"] == "bad_request" and r.get_json()["error"]
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


@pytest.mark.parametrize("body,content_type", [
    ("{not json", "application/json"),
    ('{"question_id": 1, "value": tr', "application/json"),
    ("[]", "application/json"),
    ("null", "application/json"),
    ('"text"', "application/json"),
    (b'{"comment": "\xff\xfe"}', "application/json"),
    ('{"question_id": 1, "value": false}', "text/plain"),
])
def test_a_body_that_is_not_an_answer_is_refused(app, login_as, setup, body, content_type):
    b = login_as("evaluator")
    answered(b, setup)
    r = b.client.post(f"/visits/{setup['visit']}/answers", data=body, content_type=content_type,
                      headers={"X-CSRFToken": b.token()})
    assert r.status_code == 400 and r.get_json()["error"]
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


def test_a_charset_in_the_content_type_is_fine(app, login_as, setup):
    b = login_as("evaluator")
    body = f'{{"question_id": {setup["q"]["q1"]}, "value": false, "answered_at": "{moment(1)}"}}'
    r = b.client.post(f"/visits/{setup['visit']}/answers", data=body.encode(),
                      content_type="application/json; charset=utf-8", headers={"X-CSRFToken": b.token()})
    assert r.status_code == 200
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


# --- who may answer --------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["none", "garbage", "another session's"])
def test_a_missing_or_foreign_csrf_token_is_refused(app, login_as, setup, token):
    b = login_as("evaluator")
    answered(b, setup)
    headers = {}
    if token == "garbage":
        headers["X-CSRFToken"] = "not-a-token"
    elif token == "another session's":
        headers["X-CSRFToken"] = login_as("evaluator").token()
    payload = {"question_id": setup["q"]["q1"], "value": False, "na": False, "comment": "", "answered_at": moment(1)}
    r = b.post_json(f"/visits/{setup['visit']}/answers", payload, csrf=False, headers=headers)
    assert r.status_code == 400
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


@pytest.mark.parametrize("who,status", [("evaluator2", 404), ("admin", 403), ("client", 403), ("other_client", 403)])
def test_other_people_are_refused(app, login_as, setup, who, status):
    answered(login_as("evaluator"), setup)
    r = save(login_as(who), setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code == status
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


def test_ids_of_other_tenants_and_missing_visits_are_404(app, world, login_as, setup):
    """Evan's visit for client B, a visit that does not exist and ids past any row: all 404 for Eva,
    the same as for a visit that exists but is not hers."""
    with app.app_context():
        client_b = db.session.merge(world.client_b)
        evan = db.session.merge(world.evaluator2)
        version = factories.make_version()
        theirs = factories.make_visit(client_b, evan, version, status="in_progress")
        db.session.commit()
        theirs_id, their_q1 = theirs.id, next(q.id for q in version.questions() if q.key == "q1")
    b = login_as("evaluator")
    for visit_id, question_id in [(theirs_id, their_q1), (theirs_id, setup["q"]["q1"]),
                                  (999999, setup["q"]["q1"]), (2**31, setup["q"]["q1"])]:
        assert save(b, visit_id, question_id, True, moment(1)).status_code == 404, visit_id
    assert stored(app, theirs_id, their_q1) is None and _count_answers(app, setup["visit"]) == 0


def _ends_session(app, world, change):
    from audit_app.accounts import operations

    with app.app_context():
        user = db.session.get(User, world.ids["evaluator"])
        if change == "deactivated":
            user.active = False
        elif change == "signed out everywhere":  # a password change on another device does this
            operations.end_sessions(user)
        elif change == "temporary password":
            user.must_change_password = True
        db.session.commit()


@pytest.mark.parametrize("change", ["deactivated", "signed out everywhere", "temporary password"])
def test_a_session_that_no_longer_holds_writes_nothing(app, world, login_as, setup, change):
    b = login_as("evaluator")
    answered(b, setup)
    b.token()
    _ends_session(app, world, change)
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code in (302, 401)
    if change == "temporary password":
        assert "/account/password" in r.headers.get("Location", "") or r.status_code == 401
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


# --- after submission -------------------------------------------------------------------------------


def test_an_answer_after_the_submit_is_refused_with_409(app, login_as, setup):
    b = login_as("evaluator")
    for key, value in factories.WORKED_EXAMPLE.items():
        assert save(b, setup["visit"], setup["q"][key], value, moment(0), na=value is None).status_code == 200
    assert b.post(f"/visits/{setup['visit']}/submit").status_code == 302
    with app.app_context():
        assert db.session.get(Visit, setup["visit"]).status == "submitted"
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code == 409 and r.get_json()["code"] == "locked" and r.get_json()["error"]
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))
    r = save(b, setup["visit"], setup["q"]["q6"], "too late", moment(1))  # not answered before: not added
    assert r.status_code == 409 and stored(app, setup["visit"], setup["q"]["q6"]) is None


@pytest.mark.parametrize("status", ["submitted", "approved", "rejected"])
def test_a_visit_past_submission_refuses_the_answer(app, login_as, setup, status):
    b = login_as("evaluator")
    answered(b, setup)
    _set_status(app, setup["visit"], status)
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code == 409 and r.get_json()["code"] == "locked"
    assert _is_unchanged(stored(app, setup["visit"], setup["q"]["q1"]))


def test_a_returned_visit_keeps_its_audit_trail(app, world, login_as, setup):
    """Answers changed after the visit was returned go into the trail: one entry per question and
    return round, from the answer at the return to the latest one."""
    b = login_as("evaluator")
    answered(b, setup)
    _set_status(app, setup["visit"], "returned")
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(1)).status_code == 200
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False
    changes = [e for e in _events(app, setup["visit"]) if e.action == "answer_changed"]
    assert [(e.field, e.old_value, e.new_value, e.user_id) for e in changes] == [
        ("q1", {"value": True, "na": False}, {"value": False, "na": False}, world.ids["evaluator"])]
    # changed again: the same entry, now ending at the latest answer
    assert save(b, setup["visit"], setup["q"]["q3"], None, moment(2), na=True).status_code == 200
    changes = [e for e in _events(app, setup["visit"]) if e.action == "answer_changed"]
    assert [(e.field, e.new_value) for e in changes] == [
        ("q1", {"value": False, "na": False}), ("q3", {"value": None, "na": True})]
    assert save(b, setup["visit"], setup["q"]["q1"], True, moment(3)).status_code == 200
    changes = [e for e in _events(app, setup["visit"]) if e.action == "answer_changed"]
    assert [(e.field, e.old_value, e.new_value) for e in changes if e.field == "q1"] == [
        ("q1", {"value": True, "na": False}, {"value": True, "na": False})]


def test_a_returned_visit_records_no_change_for_the_same_answer_or_a_stale_one(app, login_as, setup):
    b = login_as("evaluator")
    answered(b, setup)
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(5)).status_code == 200
    _set_status(app, setup["visit"], "returned")
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(6)).status_code == 200  # the same answer
    stale = save(b, setup["visit"], setup["q"]["q1"], True, moment(1))
    assert stale.status_code == 200 and stale.get_json()["stale"] is True
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False
    assert [e for e in _events(app, setup["visit"]) if e.action == "answer_changed"] == []
