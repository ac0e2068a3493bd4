"""Faults (issue 7): the S3 server down, PostgreSQL dropping connections, a request dying mid-write,
a double-clicked submit and an answer sent twice at once.

The S3 tests start their own local S3 server (moto's server mode) so that they can stop it. The
tests that need PostgreSQL's behaviour (dropped connections, row locks, real concurrency) are in
``test_faults_postgresql.py``, which runs them on PostgreSQL in both passes of ``.ci/run``.
"""

from __future__ import annotations

import io
import os
from types import SimpleNamespace

import pytest
from flask import url_for
from sqlalchemy import func, select

from tests import factories
from tests.conftest import AWS_ENV, free_port, make_s3_storage
from tests.factories import jpeg_bytes


def _url(app, endpoint, **kw):
    with app.test_request_context():
        return url_for(endpoint, **kw)


def _visit(app, world, status="in_progress", answered=False, doc=None):
    from audit_app.extensions import db

    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version(doc)
        visit = factories.make_visit(client, evaluator, version, status=status)
        if answered:
            for key, value in factories.WORKED_EXAMPLE.items():
                factories.answer(visit, key, value, na=value is None)
        db.session.commit()
        return visit.id


def _question_ids(app, visit_id) -> dict[str, int]:
    from audit_app.checklists.models import Question
    from audit_app.extensions import db
    from audit_app.visits.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        rows = db.session.scalars(select(Question).where(Question.version_id == visit.checklist_version_id))
        return {q.key: q.id for q in rows}


def _state(app, visit_id) -> SimpleNamespace:
    """What the database holds for the visit, read in a fresh session."""
    from audit_app.evidence.models import Photo
    from audit_app.extensions import db
    from audit_app.submissions.models import Answer, AuditEvent
    from audit_app.visits.models import Visit, VisitDimensionScore

    with app.app_context():
        db.session.remove()
        visit = db.session.get(Visit, visit_id)
        events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.visit_id == visit_id)))
        answers = list(db.session.scalars(select(Answer).where(Answer.visit_id == visit_id)))
        state = SimpleNamespace(
            status=visit.status,
            score_overall=visit.score_overall,
            scored_at=visit.scored_at,
            submitted_at=visit.submitted_at,
            dimension_rows=db.session.scalar(
                select(func.count()).select_from(VisitDimensionScore).where(VisitDimensionScore.visit_id == visit_id)
            ),
            submit_events=[e for e in events if e.field == "status" and e.new_value == "submitted"],
            answers={a.question_id: a for a in answers},
            fractions=[a.fraction for a in answers],
            photos=db.session.scalar(select(func.count()).select_from(Photo).where(Photo.visit_id == visit_id)),
        )
        db.session.remove()
        return state


def _answer(browser, app, visit_id, question_id, value, at="2026-01-01T10:00:00Z"):
    return browser.post_json(_url(app, "submissions.save_answer", visit_id=visit_id),
                             {"question_id": question_id, "value": value, "na": False, "comment": "",
                              "answered_at": at})


def _upload(browser, app, visit_id, question_id=None, uid=None):
    form = {"file": (io.BytesIO(jpeg_bytes()), "photo.jpg"), "caption": "Counter"}
    if question_id is not None:
        form["question_id"] = str(question_id)
    if uid:
        form["client_uid"] = uid
    return browser.post(_url(app, "evidence.upload", visit_id=visit_id), form,
                        content_type="multipart/form-data", headers={"Accept": "application/json"})


# --- the S3 server stopped --------------------------------------------------------------------------


@pytest.fixture
def own_s3(app):
    """The app's storage on a local S3 server that the test may stop and start again."""
    from moto.server import ThreadedMotoServer

    from audit_app.evidence.storage import EXTENSION_KEY

    saved_env = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    port = free_port()
    state = {"server": None}

    def start():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        state["server"] = server

    def stop():
        if state["server"] is not None:
            state["server"].stop()
            state["server"] = None

    start()
    storage = make_s3_storage(f"http://127.0.0.1:{port}", prefix="faults")
    previous = app.extensions.get(EXTENSION_KEY)
    app.extensions[EXTENSION_KEY] = storage
    try:
        yield SimpleNamespace(storage=storage, start=start, stop=stop)
    finally:
        stop()
        if previous is None:
            app.extensions.pop(EXTENSION_KEY, None)
        else:
            app.extensions[EXTENSION_KEY] = previous
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_s3_down_answers_and_submission_go_on_uploads_fail_clearly_then_recover(app, world, login_as, own_s3,
                                                                               monkeypatch):
    monkeypatch.setitem(app.config, "REDACTION_RETRY_DELAYS", (0, 0))  # blurring gives up at once while it is down
    visit_id = _visit(app, world)
    qids = _question_ids(app, visit_id)
    eva = login_as("evaluator")

    before = _upload(eva, app, visit_id, qids["q5"], uid="photo-before-outage")
    assert before.status_code == 201, before.get_data(as_text=True)

    own_s3.stop()
    # answering goes on: answers never touch the store
    for key, value in factories.WORKED_EXAMPLE.items():
        response = eva.post_json(_url(app, "submissions.save_answer", visit_id=visit_id),
                                 {"question_id": qids[key], "value": value, "na": value is None, "comment": ""})
        assert response.status_code == 200, (key, response.get_data(as_text=True))
    assert eva.get(_url(app, "submissions.form", visit_id=visit_id)).status_code == 200

    # an upload fails with a clear message, as JSON the form can show, and leaves nothing behind
    failed = _upload(eva, app, visit_id, qids["q5"], uid="photo-during-outage")
    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert "storage" in failed.get_json()["error"].lower() or "tallennus" in failed.get_json()["error"].lower()
    assert _state(app, visit_id).photos == 1
    page = eva.post(_url(app, "evidence.upload", visit_id=visit_id),
                    {"file": (io.BytesIO(jpeg_bytes()), "photo.jpg")}, content_type="multipart/form-data")
    assert page.status_code == 503 and b"<html" in page.data.lower()

    # the server is back: the same upload (retried by the form with the same id) succeeds
    own_s3.start()
    retried = _upload(eva, app, visit_id, qids["q5"], uid="photo-during-outage")
    assert retried.status_code == 201, retried.get_data(as_text=True)
    assert _state(app, visit_id).photos == 2
    stored = sorted(k for k in own_s3.storage.keys() if "/redacted-" not in k)  # blurring runs on its own
    assert len(stored) == 6  # original, report and thumb of the two photos; nothing half-written

    # down again: submitting still works (it needs the database only)
    own_s3.stop()
    submitted = eva.post(_url(app, "submissions.submit", visit_id=visit_id), {})
    assert submitted.status_code == 302, submitted.get_data(as_text=True)[:500]
    state = _state(app, visit_id)
    assert state.status == "submitted" and state.score_overall is not None


# --- a request killed mid-write ----------------------------------------------------------------------


class WorkerKilled(BaseException):
    """A worker process ending mid-request: nothing in the app catches it."""


def _dies_after(monkeypatch, module, name: str, error: type[BaseException] = RuntimeError) -> list:
    """``module.name`` does its work, then dies as a killed worker would; returns what it returned."""
    real, returned = getattr(module, name), []

    def dies(*args, **kwargs):
        returned.append(real(*args, **kwargs))
        raise error("the worker was killed here")

    monkeypatch.setattr(module, name, dies)
    return returned


def _answer_killed(browser, app, *args, **kwargs):
    app.logger.disabled = True  # the 500 is the point; its traceback is noise
    try:
        return _answer(browser, app, *args, **kwargs)
    finally:
        app.logger.disabled = False


@pytest.mark.parametrize("where", ["compute_and_store_scores", "record_event"])
def test_a_request_dying_inside_submit_leaves_no_half_written_visit(app, world, login_as, monkeypatch, where):
    from audit_app.submissions import operations

    visit_id = _visit(app, world, answered=True)
    eva = login_as("evaluator")
    _dies_after(monkeypatch, operations, where)  # scores, dimension rows, fractions or the trail are flushed
    app.logger.disabled = True
    try:
        response = eva.post(_url(app, "submissions.submit", visit_id=visit_id), {})
    finally:
        app.logger.disabled = False
    assert response.status_code == 500
    state = _state(app, visit_id)
    assert state.status == "in_progress"
    assert state.score_overall is None and state.scored_at is None and state.submitted_at is None
    assert state.dimension_rows == 0 and state.submit_events == []
    assert all(f is None for f in state.fractions) and len(state.answers) == len(factories.WORKED_EXAMPLE)

    monkeypatch.undo()
    again = eva.post(_url(app, "submissions.submit", visit_id=visit_id), {})
    assert again.status_code == 302
    state = _state(app, visit_id)
    assert state.status == "submitted" and len(state.submit_events) == 1 and state.dimension_rows > 0


def test_a_request_dying_inside_an_answer_save_keeps_the_previous_answer(app, world, login_as, monkeypatch):
    from audit_app.submissions import operations

    visit_id = _visit(app, world)
    qids = _question_ids(app, visit_id)
    eva = login_as("evaluator")
    assert _answer(eva, app, visit_id, qids["q3"], 4, at="2026-01-01T10:00:00Z").status_code == 200
    _dies_after(monkeypatch, operations, "save_answer")
    assert _answer_killed(eva, app, visit_id, qids["q3"], 2, at="2026-01-01T10:05:00Z").status_code == 500
    assert _state(app, visit_id).answers[qids["q3"]].value == 4


def test_a_second_submit_is_refused_without_a_second_status_change(app, world, login_as):
    visit_id = _visit(app, world, answered=True)
    eva = login_as("evaluator")
    url = _url(app, "submissions.submit", visit_id=visit_id)
    first, second = eva.post(url, {}), eva.post(url, {})
    assert first.status_code == 302 and second.status_code == 302
    state = _state(app, visit_id)
    assert state.status == "submitted" and len(state.submit_events) == 1
