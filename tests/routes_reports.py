"""Routes of the reports package for the access-map walk (tests/test_access_map.py)."""

from __future__ import annotations

REPORT = {"admin", "client"}
OTHER_404 = {"other_client": 404}


def _no_args(world):
    return {}


def _visit(world):
    def make():
        from audit_app.extensions import db
        from tests import factories

        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        visit = factories.make_scored_visit(client, evaluator)
        db.session.commit()
        return visit.id

    return world.once("reports_visit", make)


def _location(world):
    def make():
        from audit_app.extensions import db
        from tests import factories

        location = factories.make_location(db.session.merge(world.client_a))
        db.session.commit()
        return location.id

    return world.once("reports_location", make)


def _generated(world):
    def make():
        from audit_app.extensions import db
        from audit_app.reports.models import GeneratedReport

        # released (a period report reads approved visits only): its client's users may follow it
        row = GeneratedReport(client_id=world.ids["client_a"], scope="client", state="queued", released=True,
                              created_by_id=world.ids["client_user"], language="en")
        db.session.add(row)
        db.session.commit()
        return row.id

    return world.once("reports_generated", make)


def _export(world):
    def make():
        from audit_app.extensions import db
        from audit_app.reports.models import ExportJob

        row = ExportJob(client_id=world.ids["client_a"], kind="visits", fmt="csv", state="queued", language="en",
                        filters={"start": "2026-01-01", "end": "2026-03-31"}, created_by_id=world.ids["client_user"])
        db.session.add(row)
        db.session.commit()
        return row.id

    return world.once("reports_export", make)


RULES = {
    "reports.dashboard": (REPORT, _no_args),
    "reports.visit_report": (REPORT, lambda w: {"visit_id": _visit(w)}, OTHER_404),
    "reports.location_report": (REPORT, lambda w: {"location_id": _location(w)}, OTHER_404),
    "reports.channel_report": (REPORT, lambda w: {"client_id": w.ids["client_a"], "channel": "phone"}, OTHER_404),
    "reports.client_report": (REPORT, lambda w: {"client_id": w.ids["client_a"]}, OTHER_404),
    "reports.make_pdf": (REPORT, lambda w: {"client_id": w.ids["client_a"], "scope": "visit", "ref": _visit(w)},
                         OTHER_404),
    "reports.generated_list": (REPORT, _no_args),
    "reports.generated_status": (REPORT, lambda w: {"report_id": _generated(w)}, OTHER_404),
    # a queued report has no file yet: 404 for everyone
    "reports.generated_download": (REPORT, lambda w: {"report_id": _generated(w)},
                                   {"admin": 404, "client": 404, "other_client": 404}),
    "reports.export": (REPORT, lambda w: {"client_id": w.ids["client_a"], "kind": "visits", "fmt": "csv"},
                       OTHER_404),
    "reports.export_job": (REPORT, lambda w: {"client_id": w.ids["client_a"], "kind": "visits", "fmt": "csv"},
                           OTHER_404),
    "reports.export_status": (REPORT, lambda w: {"export_id": _export(w)}, OTHER_404),
    # a queued export has no file yet: 404 for everyone
    "reports.export_download": (REPORT, lambda w: {"export_id": _export(w)},
                                {"admin": 404, "client": 404, "other_client": 404}),
    "reports.logo": ({"admin"}, lambda w: {"client_id": w.ids["client_a"]}),
}
