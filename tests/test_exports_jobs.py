"""Large exports through RQ (issue 20): with REDIS_URL the dashboard asks a worker for the export, whose
page shows its progress (rows written of the total) and the download when it is done; the file is kept
in Storage. The access rules are the export's: a client's user only its own client's released visits.
Without Redis the export is the streamed download, as before."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.test_exports import _build

REDIS_URL = "redis://127.0.0.1:6379/6"


@pytest.fixture
def small(app, world):
    return _build(app, world, 300)


def _job_url(data, kind, fmt, **extra):
    args = "&".join(f"{k}={v}" for k, v in {"start": data["start"], "end": data["end"], **extra}.items())
    return f"/reports/clients/{data['client']}/export/{kind}.{fmt}/job?{args}"


def _run_worker(app):
    from rq import SimpleWorker

    import worker
    from audit_app.reports.jobs import QUEUE

    assert worker.work(app, [QUEUE], burst=True, worker_class=SimpleWorker)


def test_a_large_export_is_written_by_a_worker_with_progress_and_downloaded(app, small, login_as, redis_queue,
                                                                            monkeypatch):
    from rq import Queue
    from rq.job import Job

    from audit_app.reports import jobs, operations
    from audit_app.reports.jobs import QUEUE

    monkeypatch.setattr(operations, "PROGRESS_EVERY", 50)
    seen = []
    real = Job.save_meta

    def save_meta(job):  # every progress report the worker makes, as the status page would read it
        seen.append((job.meta.get("rows_done"), job.meta.get("rows_total")))
        return real(job)

    monkeypatch.setattr(Job, "save_meta", save_meta)
    client = login_as("client")
    client.post("/language", {"language": "en"})
    page = client.get(f"/dashboard?start={small['start']}&end={small['end']}").get_data(as_text=True)
    # with Redis, the dashboard's exports are forms that ask for a job (CSRF token included)
    assert f'action="/reports/clients/{small["client"]}/export/visits.csv/job?' in page.replace("&amp;", "&")
    response = client.post(_job_url(small, "visits", "csv"))
    assert response.status_code == 302
    status_url = response.headers["Location"]
    export_id = int(re.search(r"/reports/exports/(\d+)$", status_url).group(1))
    queue = Queue(QUEUE, connection=redis_queue)
    assert queue.count == 1  # queued once the request committed, not written in the request
    state = client.get(f"{status_url}?format=json").get_json()
    assert state == {"state": "queued", "rows_done": 0, "rows_total": 0, "progress": 0, "download": None}
    html = client.get(status_url).get_data(as_text=True)
    assert "Writing the export" in html and 'role="progressbar"' in html and "report-status.js" in html
    assert client.get(f"/reports/exports/{export_id}/download").status_code == 404
    other = login_as("other_client")
    assert other.get(status_url).status_code == 404
    assert other.get(f"{status_url}?format=json").status_code == 404

    _run_worker(app)
    assert queue.count == 0 and len(queue.failed_job_registry) == 0
    # progress went up in steps of 50 rows out of the 300 visits, then the whole
    assert seen[0] == (0, 300) and (150, 300) in seen and seen[-1] == (300, 300)
    state = client.get(f"{status_url}?format=json").get_json()
    assert state["state"] == "done" and state["progress"] == 100 and state["rows_done"] == 300
    assert state["download"].endswith(f"/reports/exports/{export_id}/download")
    html = client.get(status_url).get_data(as_text=True)
    assert "Your export is ready: 300 rows." in html
    download = client.get(state["download"])
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert f'filename="visits_{small["start"]}_{small["end"]}.csv"' in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Visit" and len(rows) == 301
    ids = {int(r[0]) for r in rows[1:]}
    assert not ids & set(small["hidden"].values())  # no submitted, calibration or other client's visit
    # the same bytes as the streamed download
    direct = client.get(f"/reports/clients/{small['client']}/export/visits.csv?start={small['start']}"
                        f"&end={small['end']}")
    assert direct.data == download.data
    assert other.get(state["download"]).status_code == 404
    with app.app_context():
        from audit_app.evidence.storage import get_storage
        from audit_app.extensions import db
        from audit_app.reports.models import ExportJob

        row = db.session.get(ExportJob, export_id)
        assert get_storage().exists(row.storage_key) and row.size_bytes == len(download.data)
        assert jobs.export_progress(row)["rows_total"] == 300


def test_an_xlsx_export_job_in_finnish_for_an_admin(app, small, login_as, redis_queue):
    from openpyxl import load_workbook

    admin = login_as("admin")
    admin.post("/language", {"language": "fi"})
    response = admin.post(_job_url(small, "answers", "xlsx", channel="in_person"))
    status_url = response.headers["Location"]
    _run_worker(app)
    state = admin.get(f"{status_url}?format=json").get_json()
    assert state["state"] == "done"
    download = admin.get(state["download"])
    assert download.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(download.data), read_only=True).worksheets[0]
    assert sheet.title == "Vastaukset"
    header = next(sheet.iter_rows(values_only=True))
    assert header[0] == "Käynti"
    # back to the dashboard of the export's client and filters (an admin's dashboard shows any client)
    page = admin.get(status_url).get_data(as_text=True)
    assert f'/dashboard?client_id={small["client"]}&amp;start={small["start"]}' in page
    assert "channel=in_person" in page
    # My reports lists it, with its download, so the page is not the only way back to the file
    listing = admin.get("/reports/generated").get_data(as_text=True)
    assert "Viennit" in listing and state["download"] in listing
    assert state["download"] not in login_as("other_client").get("/reports/generated").get_data(as_text=True)


def test_without_redis_or_with_redis_down_the_export_is_the_streamed_download(app, small, login_as):
    from audit_app.extensions import db
    from audit_app.reports.models import ExportJob

    client = login_as("client")
    page = client.get(f"/dashboard?start={small['start']}&end={small['end']}").get_data(as_text=True)
    assert "/export/visits.csv/job" not in page  # plain links, as before
    response = client.post(_job_url(small, "visits", "csv"))
    assert response.status_code == 302 and "/export/visits.csv?" in response.headers["Location"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/6"  # nothing listens there
    try:
        response = client.post(_job_url(small, "visits", "csv"))
    finally:
        app.config["REDIS_URL"] = ""
    assert response.status_code == 302 and "/export/visits.csv?" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200
    with app.app_context():
        assert db.session.query(ExportJob).count() == 0


def test_export_job_requests_are_checked(app, small, login_as, redis_queue):
    client = login_as("client")
    assert client.post(_job_url(small, "visits", "csv"), csrf=False).status_code == 400  # no CSRF token
    assert client.post(_job_url(small, "visits", "pdf")).status_code == 404
    assert client.post(_job_url(small, "visits", "csv", start="yesterday")).status_code == 400
    assert login_as("other_client").post(_job_url(small, "visits", "csv")).status_code == 404
    assert login_as("evaluator").post(_job_url(small, "visits", "csv")).status_code == 403


@pytest.mark.parametrize("kind", ["report", "export"])
def test_a_job_redis_refuses_after_the_commit_is_marked_failed(app, world, kind):
    """Redis goes away between the request's check and its commit: the queued row says it failed
    (its page stops waiting) instead of staying queued for ever."""
    from audit_app.extensions import db
    from audit_app.reports import jobs
    from audit_app.reports.models import ExportJob, GeneratedReport

    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        with app.app_context():
            if kind == "report":
                row = GeneratedReport(client_id=world.ids["client_a"], scope="client")
                db.session.add(row)
                db.session.flush()
                jobs.enqueue_after_commit(row.id)
            else:
                row = ExportJob(client_id=world.ids["client_a"], kind="visits", fmt="csv", filters={})
                db.session.add(row)
                db.session.flush()
                jobs.enqueue_export_after_commit(row.id)
            row_id, model = row.id, type(row)
            db.session.commit()
            db.session.remove()
            stored = db.session.get(model, row_id)
            assert (stored.state, stored.error) == ("failed", "queue unavailable")
    finally:
        app.config["REDIS_URL"] = ""
