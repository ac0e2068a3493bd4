"""The autosave's fast path (``submissions.lane`` and ``submissions.operations.autosave``): on
PostgreSQL the common answer is taken before Flask's request machinery, checked and written in one
statement, with no user or visit loaded. Every case here is first made the fast path's own (the
question is known from an earlier answer), and must end exactly as the full path ends it: the same
status, the same message, nothing written that should not be. On SQLite the lane stands aside and
the same outcomes come from the full path. An answer racing a submit is in
``test_faults_postgresql.py`` (row locks); the lane's own checks (session, CSRF token, body) are in
``test_autosave_lane.py``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from audit_app.extensions import db
from audit_app.submissions.models import Answer, AuditEvent
from audit_app.visits.models import Visit

from . import factories


class Outcomes(list):
    on_postgresql = False

    @property
    def wrote(self) -> bool:
        """The last answer was written by the fast path."""
        return bool(self) and self[-1] is not None

    @property
    def fell_through(self) -> list:
        """What one answer that the fast path left to the full path records (SQLite: no attempt)."""
        return [None] if self.on_postgresql else []


@pytest.fixture
def fast(app, monkeypatch):
    """Records what each fast-path attempt returned (a time: written; None: the full path)."""
    from audit_app.submissions import operations

    real, outcomes = operations.autosave, Outcomes()

    def spy(*args, **kwargs):
        outcomes.append(real(*args, **kwargs))
        return outcomes[-1]

    monkeypatch.setattr(operations, "autosave", spy)
    outcomes.on_postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    return outcomes


@pytest.fixture
def setup(app, world):
    """Eva's phone visit in progress and a second one on another version; both versions' questions
    known to the fast path after one answer each."""
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
    return (datetime(2026, 3, 1, 12, 0) + timedelta(minutes=minutes)).replace(tzinfo=UTC).isoformat()


def save(b, visit_id, question_id, value, at, **extra):
    payload = {"question_id": question_id, "value": value, "na": False, "comment": "", "answered_at": at,
               "client_id": "c-1", **extra}
    return b.post_json(f"/visits/{visit_id}/answers", payload)


def stored(app, visit_id, question_id):
    with app.app_context():
        db.session.remove()
        return db.session.scalar(select(Answer).where(Answer.visit_id == visit_id, Answer.question_id == question_id))


def warm(b, setup):
    """One answer per question used below, through the full path, so the fast path knows them."""
    assert save(b, setup["visit"], setup["q"]["q1"], True, moment(0)).status_code == 200
    assert save(b, setup["visit"], setup["q"]["q3"], 3, moment(0)).status_code == 200
    assert save(b, setup["other_visit"], setup["other_q"]["q1"], True, moment(0)).status_code == 200


def test_the_common_answer_takes_one_statement(app, login_as, setup, fast):
    b = login_as("evaluator")
    warm(b, setup)
    fast.clear()
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1), comment="Hold music for 4 min")
    assert r.status_code == 200
    body = r.get_json()
    assert body["ok"] is True and body["client_id"] == "c-1" and body["saved_at"].endswith("Z")
    assert fast.wrote == fast.on_postgresql
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert row.value is False and row.comment == "Hold music for 4 min"
    assert row.answered_at == datetime(2026, 3, 1, 12, 1)
    assert row.updated_by_id is not None


def test_an_older_write_is_stale_and_changes_nothing(app, login_as, setup, fast):
    b = login_as("evaluator")
    warm(b, setup)
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(5)).status_code == 200
    r = save(b, setup["visit"], setup["q"]["q1"], True, moment(2))
    assert r.status_code == 200 and r.get_json()["stale"] is True
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


@pytest.mark.parametrize("key,value,na", [("q3", 7, False), ("q3", "3", False), ("q3", True, False),
                                          ("q1", None, True)])  # q1 takes no N/A
def test_a_value_that_does_not_fit_is_refused_with_its_message(app, login_as, setup, fast, key, value, na):
    b = login_as("evaluator")
    warm(b, setup)
    before = stored(app, setup["visit"], setup["q"][key]).value
    fast.clear()
    r = save(b, setup["visit"], setup["q"][key], value, moment(1), na=na)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid" and r.get_json()["error"]
    assert fast == fast.fell_through
    assert stored(app, setup["visit"], setup["q"][key]).value == before


def test_a_question_of_another_version_is_refused(app, login_as, setup, fast):
    b = login_as("evaluator")
    warm(b, setup)
    fast.clear()
    r = save(b, setup["visit"], setup["other_q"]["q1"], True, moment(1))
    assert r.status_code == 400 and r.get_json()["code"] == "invalid"
    assert fast == fast.fell_through and stored(app, setup["visit"], setup["other_q"]["q1"]) is None


@pytest.mark.parametrize("who,status", [("evaluator2", 404), ("admin", 403), ("client", 403)])
def test_other_people_get_what_the_full_path_gives(app, login_as, setup, fast, who, status):
    warm(login_as("evaluator"), setup)
    fast.clear()
    r = save(login_as(who), setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code == status
    assert all(outcome is None for outcome in fast)
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def _change_user(app, world, **values):
    from audit_app.accounts.models import User

    with app.app_context():
        user = db.session.get(User, world.ids["evaluator"])
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


@pytest.mark.parametrize("change", ["deactivated", "password changed elsewhere", "temporary password"])
def test_a_session_that_no_longer_holds_writes_nothing(app, world, login_as, setup, fast, change):
    b = login_as("evaluator")
    warm(b, setup)
    if change == "deactivated":
        _change_user(app, world, active=False)
    elif change == "password changed elsewhere":
        from werkzeug.security import generate_password_hash

        _change_user(app, world, password_hash=generate_password_hash("another-secret-42"))
    else:
        _change_user(app, world, must_change_password=True)
    fast.clear()
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code in (302, 401)
    if change == "temporary password":
        assert "/account/password" in r.headers.get("Location", "") or r.status_code == 401
    assert fast == fast.fell_through
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True


def _set_status(app, visit_id, status):
    with app.app_context():
        db.session.get(Visit, visit_id).status = status
        db.session.commit()


def test_a_submitted_visit_refuses_the_answer(app, login_as, setup, fast):
    b = login_as("evaluator")
    warm(b, setup)
    _set_status(app, setup["visit"], "submitted")
    fast.clear()
    r = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))
    assert r.status_code == 409 and r.get_json()["code"] == "locked"
    assert fast == fast.fell_through and stored(app, setup["visit"], setup["q"]["q1"]).value is True


def test_a_returned_visit_keeps_its_audit_trail(app, login_as, setup, fast):
    b = login_as("evaluator")
    warm(b, setup)
    _set_status(app, setup["visit"], "returned")
    fast.clear()
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(1)).status_code == 200
    assert fast == fast.fell_through  # the trail is the full path's work
    with app.app_context():
        fields = db.session.scalars(select(AuditEvent.field).where(AuditEvent.visit_id == setup["visit"])).all()
    assert "q1" in fields
