"""Faults that need PostgreSQL's own behaviour: connections dropped by the server, row locks and real
concurrency on two connections.

They run on PostgreSQL in both passes of ``.ci/run``: on the PostgreSQL pass with the suite's app,
on the SQLite pass with an app of their own on the database ``test_faults_pg`` (made if missing).
Locally they are skipped when PostgreSQL is not reachable; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import make_test_app, own_postgresql_database, sqlalchemy_url
from tests.test_autosave_fast_path import fast, moment, save, setup, stored, warm  # noqa: F401 (fixtures)
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




def test_the_fast_autosave_survives_dropped_connections(app, login_as, setup, fast):  # noqa: F811
    """The fast path's own engine has no liveness ping: a statement that finds its connection dropped
    is sent once more on a new one (the upsert is idempotent), so the evaluator never sees it."""
    b = login_as("evaluator")
    warm(b, setup)
    assert save(b, setup["visit"], setup["q"]["q1"], False, moment(1)).status_code == 200
    fast.clear()
    for n in range(2, 4):
        assert _terminate_backends(app) >= 1
        assert save(b, setup["visit"], setup["q"]["q1"], n % 2 == 0, moment(n)).status_code == 200
    assert len(fast) == 2 and all(outcome is not None for outcome in fast)  # written by the fast path
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is False


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




def test_the_same_first_answer_sent_twice_at_once_is_stored_once(app, world, login_as, monkeypatch):
    from audit_app.submissions import operations

    visit_id = _visit(app, world)
    qids = _question_ids(app, visit_id)
    first, second = login_as("evaluator"), login_as("evaluator")
    first.token(), second.token()
    real = operations._answer_row

    def slow_lookup(visit, question):
        row = real(visit, question)
        if row is None:
            time.sleep(0.3)  # both requests see no answer yet and both insert
        return row

    monkeypatch.setattr(operations, "_answer_row", slow_lookup)
    results = _at_once(
        lambda: _answer(first, app, visit_id, qids["q2"], 3, at="2026-01-01T10:00:00Z"),
        lambda: _answer(second, app, visit_id, qids["q2"], 7, at="2026-01-01T10:00:01Z"),
    )
    assert [getattr(r, "status_code", r) for r in results] == [200, 200]
    state = _state(app, visit_id)
    assert len(state.answers) == 1
    assert state.answers[qids["q2"]].value == 7  # the later answer wins, whichever arrived last


# --- an answer racing a submit ---------------------------------------------------------------------


def test_an_answer_arriving_during_a_submit_waits_and_is_refused(app, login_as, setup, fast):  # noqa: F811
    """The submit locks the visit row for update; the fast statement share-locks it, so it waits,
    then sees the visit submitted and writes nothing (the full path answers 409)."""
    from audit_app.extensions import db

    b = login_as("evaluator")
    warm(b, setup)
    fast.clear()
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
    assert fast == [None]  # the fast statement waited, found the visit submitted and wrote nothing
    assert stored(app, setup["visit"], setup["q"]["q1"]).value is True
