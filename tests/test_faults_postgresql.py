"""Faults that need PostgreSQL's own behaviour: connections dropped by the server, row locks and real
concurrency on two connections.

They run on PostgreSQL in both passes of ``.ci/run``: on the PostgreSQL pass with the suite's app,
on the SQLite pass with an app of their own on the database ``test_faults_pg`` (made if missing).
Locally they are skipped when PostgreSQL is not reachable; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import make_test_app, own_postgresql_database, sqlalchemy_url
from tests.test_autosave import _events, answered, moment, save, setup, stored  # noqa: F401 (setup: a fixture)
from tests.test_faults import _answer, _question_ids, _state, _url, _visit


@pytest.fixture(scope="module")
def app(app):
    """The suite's app when it runs on PostgreSQL, else an app on a PostgreSQL database of these tests."""
    from audit_app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            return app
    return make_test_app(sqlalchemy_url(own_postgresql_database("test_faults_pg")))


# --- PostgreSQL drops the app's connections ------------------------------------------------------------


def _terminate_backends(app) -> int:
    from audit_app.extensions import db

    with app.app_context():
        url = db.engine.url
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            killed = conn.execute(text(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid()"
            )).scalar()
            conn.commit()
    finally:
        engine.dispose()
    return int(killed or 0)


def _at_once(*calls):
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_requests_succeed_after_postgresql_drops_every_connection(app, world, login_as):
    visit_id = _visit(app, world)
    qids = _question_ids(app, visit_id)
    eva = login_as("evaluator")
    admin = login_as("admin")
    form_url = _url(app, "submissions.form", visit_id=visit_id)
    assert eva.get(form_url).status_code == 200
    assert admin.get(_url(app, "visits.visits")).status_code == 200

    for round_ in range(2):
        assert _terminate_backends(app) >= 1
        responses = [
            eva.get(form_url),
            _answer(eva, app, visit_id, qids["q1"], True, at=f"2026-01-01T10:00:0{round_}Z"),
            eva.get(_url(app, "visits.my_visits")),
            admin.get(_url(app, "visits.visits")),
            admin.get(_url(app, "visits.visit_detail", visit_id=visit_id)),
        ]
        codes = [r.status_code for r in responses]
        assert codes == [200, 200, 200, 200, 200], codes
    assert _state(app, visit_id).answers[qids["q1"]].value is True




def test_autosaves_are_stored_after_postgresql_drops_every_connection(app, login_as, setup):  # noqa: F811
    """The pool finds its connections dropped (pre-ping) and takes new ones: each answer is stored and
    the evaluator never sees an error."""
    b = login_as("evaluator")
    answered(b, setup)
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(1)).status_code == 200
    for n in range(2, 4):
        assert _terminate_backends(app) >= 1
        assert save(b, setup["visit"], setup["q"]["q1"], n % 2 == 0, moment(n)).status_code == 200
        assert stored(app, setup["visit"], setup["q"]["q1"]).value is (n % 2 == 0)
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert row.value is False and row.answered_at.isoformat() == "2026-03-01T12:03:00"


def test_a_connection_dropped_inside_an_autosave_fails_cleanly_and_writes_nothing(app, login_as, setup,  # noqa: F811
                                                                                monkeypatch):
    """The first answer of a visit not started yet starts it (status, time, trail entry) and writes
    the answer in one transaction. PostgreSQL drops the request's connection between the two: the
    request fails with the JSON error (the phone keeps the answer and sends it again), nothing of it
    is stored (the visit is not half-started), and the resend is stored whole."""
    from audit_app.extensions import db
    from audit_app.submissions import operations

    with app.app_context():
        db.session.execute(text("UPDATE visits SET status = 'assigned', started_at = NULL WHERE id = :id"),
                           {"id": setup["visit"]})
        db.session.commit()
    real, dropped = operations._upsert, []

    def drop_the_connection(dialect):
        if not dropped:  # the visit has been started in this transaction; the answer is next
            pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
            killer = create_engine(db.engine.url, poolclass=NullPool)
            try:
                with killer.connect() as conn:
                    dropped.append(conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar())
            finally:
                killer.dispose()
        return real(dialect)

    monkeypatch.setattr(operations, "_upsert", drop_the_connection)
    b = login_as("evaluator")
    app.logger.disabled = True
    try:
        r = save(b, setup["visit"], setup["q"]["q1"], True, moment(1), comment="first")
    finally:
        app.logger.disabled = False
    assert dropped == [True]
    assert r.status_code == 500 and r.get_json()["error"]
    state = _state(app, setup["visit"])
    assert (state.status, state.answers, _events(app, setup["visit"])) == ("assigned", {}, [])
    r = save(b, setup["visit"], setup["q"]["q1"], True, moment(1), comment="first")  # the phone's resend
    assert r.status_code == 200
    state = _state(app, setup["visit"])
    assert state.status == "in_progress"
    assert [(e.field, e.new_value) for e in _events(app, setup["visit"])] == [("status", "in_progress")]
    row = state.answers[setup["q"]["q1"]]
    assert (row.value, row.comment, row.answered_at.isoformat()) == (True, "first", "2026-03-01T12:01:00")


def test_a_double_clicked_submit_submits_once(app, world, login_as, monkeypatch):
    """Two submit POSTs at the same moment on two connections: one status change, one trail entry."""
    from audit_app.submissions import operations

    visit_id = _visit(app, world, answered=True)
    first, second = login_as("evaluator"), login_as("evaluator")
    url = _url(app, "submissions.submit", visit_id=visit_id)
    first.token(), second.token()
    real = operations.compute_and_store_scores

    def slow_scoring(visit):
        time.sleep(0.3)  # widen the window in which the other click arrives
        return real(visit)

    monkeypatch.setattr(operations, "compute_and_store_scores", slow_scoring)
    results = _at_once(lambda: first.post(url, {}), lambda: second.post(url, {}))
    assert [getattr(r, "status_code", r) for r in results] == [302, 302]
    state = _state(app, visit_id)
    assert state.status == "submitted"
    assert len(state.submit_events) == 1




def _meet_before_writing(monkeypatch, parties: int):
    """Answers sent at once meet after each has loaded (and locked) the visit and before any writes,
    so that they would reach their writes together. One that cannot arrive (it waits for the lock)
    lets the others go on after a second."""
    from audit_app.submissions import operations

    real, meeting = operations._clean_answer, threading.Barrier(parties)

    def meet(*args, **kwargs):
        try:
            meeting.wait(timeout=1)
        except threading.BrokenBarrierError:
            pass
        return real(*args, **kwargs)

    monkeypatch.setattr(operations, "_clean_answer", meet)


@pytest.mark.parametrize("status", ["in_progress", "assigned"])
def test_the_same_first_answer_sent_twice_at_once_is_stored_once(app, world, login_as, monkeypatch, status):
    """Two devices (or a retry) send a first answer at the same moment: both inserts meet in the one
    upsert, one row results, and the later answer wins whichever arrived last. On a visit not started
    yet both also start it: once."""
    visit_id = _visit(app, world, status=status)
    qids = _question_ids(app, visit_id)
    first, second = login_as("evaluator"), login_as("evaluator")
    first.token(), second.token()
    _meet_before_writing(monkeypatch, 2)
    results = _at_once(
        lambda: _answer(first, app, visit_id, qids["q2"], 3, at="2026-01-01T10:00:00Z"),
        lambda: _answer(second, app, visit_id, qids["q2"], 7, at="2026-01-01T10:00:01Z"),
    )
    assert [getattr(r, "status_code", r) for r in results] == [200, 200]
    state = _state(app, visit_id)
    assert len(state.answers) == 1
    assert state.answers[qids["q2"]].value == 7  # the later answer wins, whichever arrived last
    assert state.status == "in_progress"
    assert len([e for e in _events(app, visit_id) if e.field == "status"]) == (1 if status == "assigned" else 0)


def test_identical_answers_sent_at_once_are_stored_once(app, world, login_as, monkeypatch):
    """The phone's retry of an answer whose reply it did not hear, arriving while the first is still
    being written: both get 200, one row, the answer as sent."""
    visit_id = _visit(app, world)
    qids = _question_ids(app, visit_id)
    first, second = login_as("evaluator"), login_as("evaluator")
    first.token(), second.token()
    _meet_before_writing(monkeypatch, 2)
    results = _at_once(*[
        lambda b=b: _answer(b, app, visit_id, qids["q3"], 4, at="2026-01-01T10:00:00Z") for b in (first, second)
    ])
    assert [getattr(r, "status_code", r) for r in results] == [200, 200]
    assert all("stale" not in r.get_json() for r in results)
    state = _state(app, visit_id)
    assert len(state.answers) == 1
    row = state.answers[qids["q3"]]
    assert (row.value, row.answered_at.isoformat()) == (4, "2026-01-01T10:00:00")


def test_different_questions_answered_at_once_on_a_visit_not_started_start_it_once(app, world, login_as,
                                                                                   monkeypatch):
    """A phone that comes back online sends its queued answers at once: every one is stored, and the
    visit is started once."""
    visit_id = _visit(app, world, status="assigned")
    qids = _question_ids(app, visit_id)
    browsers = [login_as("evaluator") for _ in range(3)]
    for b in browsers:
        b.token()
    _meet_before_writing(monkeypatch, 3)
    answers = [("q1", True), ("q2", 4), ("q3", 5)]
    results = _at_once(*[
        lambda b=b, key=key, value=value: _answer(b, app, visit_id, qids[key], value, at="2026-01-01T10:00:00Z")
        for b, (key, value) in zip(browsers, answers, strict=True)
    ])
    assert [getattr(r, "status_code", r) for r in results] == [200, 200, 200]
    state = _state(app, visit_id)
    assert {qid: a.value for qid, a in state.answers.items()} == {qids[k]: v for k, v in answers}
    assert state.status == "in_progress"
    started = [(e.old_value, e.new_value) for e in _events(app, visit_id) if e.field == "status"]
    assert started == [("assigned", "in_progress")]


# --- an answer racing a submit ---------------------------------------------------------------------


def test_an_answer_arriving_during_a_submit_waits_and_is_refused(app, login_as, setup):  # noqa: F811
    """The submit locks the visit row for update; the answer's view locks it too, so it waits, then
    sees the visit submitted and writes nothing (409)."""
    from audit_app.extensions import db

    b = login_as("evaluator")
    answered(b, setup)
    result = {}
    with app.app_context(), db.engine.connect() as submit:
        tx = submit.begin()
        submit.execute(text("SELECT id FROM visits WHERE id = :id FOR UPDATE"), {"id": setup["visit"]})
        submit.execute(text("UPDATE visits SET status = 'submitted' WHERE id = :id"), {"id": setup["visit"]})

        def answer():
            result["response"] = save(b, setup["visit"], setup["q"]["q1"], False, moment(1))

        worker = threading.Thread(target=answer)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive(), "the answer should wait for the submit's lock"
        tx.commit()
        worker.join(10)
    assert result["response"].status_code == 409
    assert result["response"].get_json()["code"] == "locked"
    row = stored(app, setup["visit"], setup["q"]["q1"])
    assert row.value is True and row.answered_at.isoformat() == "2026-03-01T12:00:00"


def _in_threads(first, second, *, hold, pause=0.5):
    """Start ``first``; once it is inside ``hold`` (an Event it sets, then waits on ``hold.release``),
    start ``second``, check that it waits for ``first``'s lock, then let ``first`` go. Their results."""
    results: dict = {}

    def run(name, call):
        try:
            results[name] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            results[name] = exc

    one = threading.Thread(target=run, args=("first", first))
    one.start()
    assert hold.inside.wait(10), "the first request never reached the point where it holds the lock"
    two = threading.Thread(target=run, args=("second", second))
    two.start()
    time.sleep(pause)
    waited = two.is_alive()
    hold.release.set()
    one.join(30)
    two.join(30)
    return results["first"], results["second"], waited


def _now() -> str:
    """The device's time now (the worked example's answers are stored at the server's time)."""
    return datetime.now(UTC).isoformat()


class _Hold:
    def __init__(self):
        self.inside, self.release = threading.Event(), threading.Event()

    def __call__(self):
        self.inside.set()
        self.release.wait(10)


def test_an_answer_that_lands_before_a_submit_is_in_its_scores(app, world, login_as, monkeypatch):
    """The answer holds its lock until it commits; the submit's lock waits for it, then scores
    the visit with the answer in it. Here the answer turns the failed critical q4 into a pass."""
    from audit_app.submissions import views

    visit_id = _visit(app, world, answered=True)  # the worked example: q4 (critical) answered no
    qids = _question_ids(app, visit_id)
    eva, phone = login_as("evaluator"), login_as("evaluator")
    eva.token(), phone.token()
    hold, real = _Hold(), views.saved_reply

    def reply_slowly(*args, **kwargs):
        hold()  # the answer is written, not yet committed
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "saved_reply", reply_slowly)
    answer, submitted, waited = _in_threads(
        lambda: _answer(phone, app, visit_id, qids["q4"], True, at=_now()),
        lambda: eva.post(_url(app, "submissions.submit", visit_id=visit_id), {}),
        hold=hold,
    )
    assert waited, "the submit should wait for the answer's lock"
    assert getattr(answer, "status_code", answer) == 200
    assert getattr(submitted, "status_code", submitted) == 302
    state = _state(app, visit_id)
    assert state.status == "submitted" and len(state.submit_events) == 1
    q4 = state.answers[qids["q4"]]
    assert q4.value is True and q4.failed is False and q4.fraction == 1.0
    with app.app_context():
        from audit_app.extensions import db
        from audit_app.visits.models import Visit

        assert db.session.get(Visit, visit_id).score_critical_fail is False


def test_an_answer_arriving_while_a_submit_scores_is_refused_after_it(app, world, login_as, monkeypatch):
    """The submit holds the visit's row lock while it scores; an answer arriving then waits for it,
    sees the visit submitted and is refused (409): it is never written after the submit's scores."""
    from audit_app.submissions import operations

    visit_id = _visit(app, world, answered=True)
    qids = _question_ids(app, visit_id)
    eva, phone = login_as("evaluator"), login_as("evaluator")
    eva.token(), phone.token()
    hold, real = _Hold(), operations.compute_and_store_scores

    def score_slowly(visit):
        hold()  # the submit holds the row lock
        return real(visit)

    monkeypatch.setattr(operations, "compute_and_store_scores", score_slowly)
    submitted, answer, waited = _in_threads(
        lambda: eva.post(_url(app, "submissions.submit", visit_id=visit_id), {}),
        lambda: _answer(phone, app, visit_id, qids["q4"], True, at=_now()),
        hold=hold,
    )
    assert waited, "the answer should wait for the submit's lock"
    assert getattr(submitted, "status_code", submitted) == 302
    assert getattr(answer, "status_code", answer) == 409 and answer.get_json()["code"] == "locked"
    state = _state(app, visit_id)
    assert state.status == "submitted" and len(state.submit_events) == 1
    q4 = state.answers[qids["q4"]]
    assert q4.value is False and q4.failed is True  # as scored
