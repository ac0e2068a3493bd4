"""Released means released: a client's user lists, opens and downloads a generated report only if
everything in it was approved when it was made and still is. Reports an admin makes of unapproved
visits are internal; a visit that leaves "approved" later hides every report it went into."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories

TODAY = date.today()
STATUSES = ("assigned", "in_progress", "submitted", "returned", "approved", "rejected")


def _visit(app, world, status="approved", location_id=None, visited_on=None):
    from audit_app.extensions import db
    from audit_app.visits.models import Location

    with app.app_context():
        location = db.session.get(Location, location_id) if location_id else None
        visit = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            status=status, location=location, visited_on=visited_on)
        db.session.commit()
        return visit.id


def _set_status(app, visit_id, status):
    """Move a visit straight to ``status`` (as a reopening or a withdrawal would)."""
    from audit_app.extensions import db
    from audit_app.visits.models import Visit

    with app.app_context():
        db.session.get(Visit, visit_id).status = status
        db.session.commit()


def _make_pdf(browser, client_id, scope, ref) -> int:
    response = browser.post(f"/reports/clients/{client_id}/pdf/{scope}/{ref}",
                            {"start": (TODAY - timedelta(days=30)).isoformat(), "end": TODAY.isoformat()})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]  # made in the request: the file
    assert response.mimetype == "application/pdf"
    return int(response.headers["X-Report-Id"])


def _access(browser, report_id) -> dict:
    """What a user gets for a generated report: listed?, its page, its JSON state, its download."""
    listing = browser.get("/reports/generated").get_data(as_text=True)
    return {
        "listed": f"/reports/generated/{report_id}/download" in listing or f"/reports/generated/{report_id}\"" in listing,
        "page": browser.get(f"/reports/generated/{report_id}").status_code,
        "json": browser.get(f"/reports/generated/{report_id}?format=json").status_code,
        "download": browser.get(f"/reports/generated/{report_id}/download").status_code,
    }


ALLOWED = {"listed": True, "page": 200, "json": 200, "download": 200}
REFUSED = {"listed": False, "page": 404, "json": 404, "download": 404}


@pytest.mark.parametrize("status", STATUSES)
def test_a_visit_report_reaches_the_client_only_when_its_visit_was_approved(app, world, login_as, status):
    visit_id = _visit(app, world, status)
    admin = login_as("admin")
    report_id = _make_pdf(admin, world.ids["client_a"], "visit", visit_id)
    assert _access(admin, report_id) == ALLOWED
    client = login_as("client")
    assert _access(client, report_id) == (ALLOWED if status == "approved" else REFUSED)
    for role in ("other_client", "evaluator"):
        assert _access(login_as(role), report_id)["download"] in (403, 404)
    # the admin's list says which reports the client cannot see
    admin.post("/language", {"language": "en"})
    listing = admin.get("/reports/generated").get_data(as_text=True)
    assert ("Internal" in listing) is (status != "approved")


def test_a_visit_reopened_after_its_report_was_made_hides_the_report(app, world, login_as):
    visit_id = _visit(app, world, "approved")
    client, admin = login_as("client"), login_as("admin")
    report_id = _make_pdf(client, world.ids["client_a"], "visit", visit_id)
    assert _access(client, report_id) == ALLOWED
    for status in ("submitted", "returned", "rejected"):
        _set_status(app, visit_id, status)
        assert _access(client, report_id) == REFUSED, status
        assert _access(admin, report_id)["download"] == 200, status
    _set_status(app, visit_id, "approved")  # approved again: what was released is released again
    assert _access(client, report_id) == ALLOWED


def test_a_report_made_before_approval_stays_internal_after_it(app, world, login_as):
    visit_id = _visit(app, world, "submitted")
    report_id = _make_pdf(login_as("admin"), world.ids["client_a"], "visit", visit_id)
    _set_status(app, visit_id, "approved")
    assert _access(login_as("client"), report_id) == REFUSED


@pytest.mark.parametrize("scope", ["location", "channel", "client"])
def test_a_period_report_is_hidden_when_any_visit_in_it_is_reopened(app, world, login_as, scope):
    from audit_app.extensions import db
    from audit_app.reports.models import GeneratedReportVisit

    with app.app_context():
        location_id = factories.make_location(db.session.merge(world.client_a)).id
        db.session.commit()
    kept = _visit(app, world, location_id=location_id, visited_on=TODAY - timedelta(days=2))
    reopened = _visit(app, world, location_id=location_id, visited_on=TODAY - timedelta(days=200))  # trend only
    pending = _visit(app, world, "submitted", location_id=location_id, visited_on=TODAY - timedelta(days=1))
    client = login_as("client")
    ref = {"location": location_id, "channel": "phone", "client": "all"}[scope]
    report_id = _make_pdf(client, world.ids["client_a"], scope, ref)
    with app.app_context():
        recorded = set(db.session.scalars(select(GeneratedReportVisit.visit_id).where(
            GeneratedReportVisit.report_id == report_id)))
    assert {kept, reopened} <= recorded and pending not in recorded
    assert _access(client, report_id) == ALLOWED
    _set_status(app, pending, "approved")  # approved after the report was made: not in it, changes nothing
    assert _access(client, report_id) == ALLOWED
    _set_status(app, reopened, "returned")
    assert _access(client, report_id) == REFUSED
    assert _access(login_as("admin"), report_id) == {**ALLOWED, "listed": False}  # the admin did not make it


def test_a_queued_report_of_an_unapproved_visit_is_internal_before_it_is_rendered(app, world):
    from werkzeug.exceptions import NotFound

    from audit_app.core.access import get_for_client
    from audit_app.extensions import db
    from audit_app.reports import operations
    from audit_app.reports.models import GeneratedReport

    submitted, approved = _visit(app, world, "submitted"), _visit(app, world, "approved")
    with app.test_request_context():
        admin, client = db.session.merge(world.admin), db.session.merge(world.client_user)
        internal = operations.create_generated(world.ids["client_a"], "visit", str(submitted), None, None, "en", admin)
        released = operations.create_generated(world.ids["client_a"], "visit", str(approved), None, None, "en", admin)
        summary = operations.create_generated(world.ids["client_a"], "client", "", TODAY, TODAY, "en", admin)
        db.session.commit()
        assert get_for_client(GeneratedReport, released.id, client).id == released.id
        assert get_for_client(GeneratedReport, summary.id, client).id == summary.id
        with pytest.raises(NotFound):
            get_for_client(GeneratedReport, internal.id, client)
        assert get_for_client(GeneratedReport, internal.id, admin).id == internal.id
        # reopened while queued: hidden before anything is rendered
        from audit_app.visits.models import Visit

        db.session.get(Visit, approved).status = "in_progress"
        db.session.commit()
        with pytest.raises(NotFound):
            get_for_client(GeneratedReport, released.id, client)


def test_existing_reports_are_filled_in_by_the_migration(tmp_path):
    """Migration 0ffcce67fad0: an old visit report of a submitted visit becomes internal; one of an approved
    visit stays released; an old period report records the visits it read."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from audit_app import create_app
    from audit_app.extensions import db

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    visit = ("INSERT INTO visits (id, client_id, location_id, channel, checklist_version_id, evaluator_id, due_from, "
             "due_to, scenario, status, visited_on, approved_at, score_overall, score_critical_fail, created_at, "
             "updated_at) VALUES ({id}, 1, NULL, 'phone', 1, 1, '2026-01-01', '2026-01-02', '', '{status}', "
             "'{on}', {approved}, 50.0, 0, '2026-01-01', '2026-01-01')")
    report = ("INSERT INTO generated_reports (id, client_id, scope, scope_ref, period_start, period_end, language, "
              "state, progress, created_at) VALUES ({id}, 1, '{scope}', '{ref}', {start}, {end}, 'en', 'done', 100, "
              "'2026-03-01 12:00:00')")
    with other.app_context():
        upgrade(revision="5b8e2c71d0a4")
        with db.engine.begin() as conn:
            for id_, status, on, approved in ((1, "submitted", "2026-02-01", "NULL"),
                                              (2, "approved", "2026-02-02", "'2026-02-03 00:00:00'"),
                                              (3, "approved", "2026-02-20", "'2026-04-01 00:00:00'"),
                                              (4, "approved", "2025-01-01", "'2025-01-02 00:00:00'")):
                conn.execute(text(visit.format(id=id_, status=status, on=on, approved=approved)))
            conn.execute(text(report.format(id=10, scope="visit", ref="1", start="NULL", end="NULL")))
            conn.execute(text(report.format(id=11, scope="visit", ref="2", start="NULL", end="NULL")))
            conn.execute(text(report.format(id=12, scope="channel", ref="phone", start="'2026-02-01'",
                                            end="'2026-02-28'")))
        upgrade()
        with db.engine.connect() as conn:
            released = dict(conn.execute(text("SELECT id, released FROM generated_reports")).all())
            recorded = conn.execute(text("SELECT report_id, visit_id FROM generated_report_visits "
                                         "ORDER BY report_id, visit_id")).all()
        db.engine.dispose()
    assert {k: bool(v) for k, v in released.items()} == {10: False, 11: True, 12: True}
    # visit 3 was approved after the period report was made, visit 4 is before its trend: neither went in
    assert [tuple(r) for r in recorded] == [(10, 1), (11, 2), (12, 2)]


def test_report_jobs_need_the_worker_app_context(app):
    """The jobs module builds no app: a job outside an app context (not started by worker.py) refuses."""
    from audit_app.reports import jobs

    with pytest.raises(RuntimeError, match="worker.py"):
        jobs.render_job(1)
