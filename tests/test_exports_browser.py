"""A large export through a worker in a real browser (issue 20): the dashboard's export button leads to the
export's page, which shows the rows written and starts the download by itself when the worker is done."""

from __future__ import annotations

import re

from tests.test_reports_browser import _pages, _sign_in, bank  # noqa: F401  (bank: a fixture)

REDIS_URL = "redis://127.0.0.1:6379/6"  # the redis_queue fixture's DB


def test_an_export_made_by_a_worker_shows_its_rows_and_downloads_by_itself(app, bank, new_page, redis_queue):  # noqa: F811
    from rq import SimpleWorker

    import worker
    from audit_app.reports.jobs import QUEUE

    page = new_page(locale="en")
    _sign_in(page, bank, "en")
    page.goto(_pages(bank)["dashboard"])
    page.get_by_role("button", name="Visit results (CSV)").click()
    page.wait_for_url(re.compile(r"/reports/exports/\d+$"))
    assert page.get_by_text("Writing the export").is_visible()
    assert page.get_by_role("progressbar").is_visible()
    with page.expect_download(timeout=60_000) as download:
        # the worker writes it (in this thread: RQ installs signal handlers); the page, polling, sees it done
        assert worker.work(app, [QUEUE], burst=True, worker_class=SimpleWorker)
    assert re.fullmatch(r"visits_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    rows = download.value.path().read_text("utf-8-sig").count("\n") - 1
    page.wait_for_function("() => /of \\d+ rows written/.test(document.getElementById('report-rows').textContent)")
    assert page.locator("#report-rows").text_content() == f"{rows} of {rows} rows written"
    assert page.get_by_role("link", name="Download the export").is_visible()
    assert "Your export is ready" in page.locator("#report-state").text_content()
