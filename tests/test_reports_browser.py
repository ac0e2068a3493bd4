"""Client pages in a real browser, with the demo's realistic data (six branches, phone, chat, e-mail,
social and web visits over a year) plus photos and long texts: every page fits a 360 px phone, the
dashboard's charts pass axe, and a worker-made PDF downloads by itself.

``REPORT_SHOTS=/some/dir`` keeps a screenshot of every page checked (both languages, phone and desktop).
"""

from __future__ import annotations

import io
import os
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from audit_app.extensions import db

from .conftest import PHONE, page_login

REDIS_URL = "redis://127.0.0.1:6379/4"  # the redis_queue fixture's DB

SHOTS = os.environ.get("REPORT_SHOTS", "")
BANK_CLIENT = "client@bank.demo.example"
LONG_TEXT = ("The clerk explained the new loan terms patiently and in plain Finnish, then wrote the next steps on "
             "a note. " * 6 + "See https://www.example.com/a-very-long-address-without-any-spaces-that-must-wrap")
LONG_CAPTION = "Queue ticket machine out of order at the entrance, people waiting without numbers"


def _png(colour=(31, 95, 139), size=(800, 600)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def _photo(visit, question_id, caption, colour=(31, 95, 139)):
    from audit_app.evidence.models import Photo
    from audit_app.evidence.storage import get_storage

    key = f"visits/{visit.id}/{abs(hash((question_id, caption)))}/report.png"
    data = _png(colour)
    get_storage().put(key, data, "image/png")
    photo = Photo(visit_id=visit.id, question_id=question_id, client_uid=key[-60:], caption=caption,
                  storage_key=key, report_key=key, thumb_key=key, content_type="image/png", size_bytes=len(data),
                  width=800, height=600, sha256="0" * 64, captured_at=datetime(2026, 11, 24, 14, 5),
                  redaction_state="done", redacted_report_key=key, redacted_thumb_key=key)  # blurred: reports show it
    db.session.add(photo)
    db.session.flush()
    return photo


@pytest.fixture
def bank(app):
    """The demo data; on the bank's newest approved in-person visit: a long free-text answer, a photo on a
    failed question, one on a question that did not fail, one of the visit as a whole (long captions)."""
    from audit_app.checklists.models import Question
    from audit_app.demo import load_demo
    from audit_app.submissions.models import Answer
    from audit_app.visits.models import Location, Visit

    with app.app_context():
        ctx = load_demo()
        bank_client = ctx["clients"]["Pohjolan Pankki"]
        approved = select(Visit).where(Visit.client_id == bank_client.id, Visit.status == "approved")
        visit = db.session.scalars(approved.where(Visit.channel == "in_person").order_by(Visit.visited_on.desc())).first()
        phone = db.session.scalars(approved.where(Visit.channel == "phone").order_by(Visit.visited_on.desc())).first()
        questions = {q.key: q for q in db.session.scalars(
            select(Question).where(Question.version_id == visit.checklist_version_id))}
        answers = {a.question_id: a for a in db.session.scalars(select(Answer).where(Answer.visit_id == visit.id))}
        text_q = next(q for q in questions.values() if q.kind == "text" and q.applies_to(visit.channel))
        row = answers.get(text_q.id) or Answer(visit_id=visit.id, question_id=text_q.id)
        row.value = LONG_TEXT
        db.session.add(row)
        failed = next((a for a in answers.values() if a.failed), None)
        passed = next(a for a in answers.values() if a.fraction and a.fraction > 0)
        if failed is not None:
            _photo(visit, failed.question_id, "Failed: " + LONG_CAPTION, (164, 38, 44))
        _photo(visit, passed.question_id, "Passed: the counter screen faced away from the queue", (30, 107, 58))
        _photo(visit, None, "Whole visit: " + LONG_CAPTION, (138, 90, 0))
        kamppi = db.session.scalar(select(Location).where(Location.client_id == bank_client.id,
                                                          Location.name == "Kamppi"))
        db.session.commit()
        return {"client_id": bank_client.id, "visit": visit.id, "phone_visit": phone.id, "kamppi": kamppi.id,
                "location": visit.location_id, "text_prompt_en": text_q.prompt["en"],
                "password": ctx["password"], "app": app}


def _pages(bank) -> dict[str, str]:
    start = (date.today() - timedelta(days=365)).isoformat()
    period = f"?start={start}&end={date.today().isoformat()}"
    c = bank["client_id"]
    return {
        "dashboard": "/dashboard" + period,
        "visit": f"/reports/visits/{bank['visit']}",
        "phone-visit": f"/reports/visits/{bank['phone_visit']}",
        "location": f"/reports/locations/{bank['location']}" + period,
        "channel": f"/reports/clients/{c}/channels/phone" + period,
        "summary": f"/reports/clients/{c}/summary" + period,
        "my-reports": "/reports/generated",
        "account": "/account",
    }


WIDTH_JS = "() => document.documentElement.scrollWidth"
WIDEST_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > 361 && !el.closest('.table-responsive')) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
  }
  return out.slice(0, 8);
}"""


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _sign_in(page, bank, language: str) -> None:
    """Sign in as the bank's client user, whose pages are in ``language`` (the account's language)."""
    from audit_app.accounts.models import User

    with bank["app"].app_context():
        db.session.scalar(select(User).where(User.email == BANK_CLIENT)).language = language
        db.session.commit()
    page_login(page, BANK_CLIENT, bank["password"])


@pytest.mark.parametrize("language", ["fi", "en"])
def test_every_client_page_fits_a_phone(bank, new_page, language):
    page = new_page(phone=True, locale=language)
    _sign_in(page, bank, language)
    # My reports with something in it: a PDF of the visit, made in the request (it downloads at once)
    page.goto(_pages(bank)["visit"])
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("PDF")).click()
    assert re.fullmatch(r"pohjolan-pankki_[a-z]+_[a-z0-9-]+_\d{4}-\d\d-\d\d\.pdf", download.value.suggested_filename)
    for name, url in _pages(bank).items():
        page.goto(url)
        page.wait_for_load_state("networkidle")
        _shot(page, f"phone-{language}-{name}")
        width = page.evaluate(WIDTH_JS)
        assert width <= PHONE["width"], (url, width, page.evaluate(WIDEST_JS))
    if SHOTS:  # the desktop view of the same pages, to look at
        desk = new_page(locale=language)
        _sign_in(desk, bank, language)
        for name, url in _pages(bank).items():
            desk.goto(url)
            desk.wait_for_load_state("networkidle")
            _shot(desk, f"desk-{language}-{name}")


def test_visit_report_page_shows_free_text_and_every_photo(bank, new_page):
    page = new_page(phone=True, locale="en")
    _sign_in(page, bank, "en")
    page.goto(_pages(bank)["visit"])
    text = page.inner_text("main")
    assert "a-very-long-address-without-any-spaces" in text
    for caption in ("Failed: " + LONG_CAPTION, "Passed: the counter screen faced away from the queue",
                    "Whole visit: " + LONG_CAPTION):
        assert caption in text, caption
    # every photo loaded (no broken image), its capture time in the reader's language
    for figure in page.locator("figure img").all():
        figure.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => Array.from(document.querySelectorAll('figure img')).every(i => i.naturalWidth > 0)")
    assert "24.11.2026" in text or "Nov 24, 2026" in text


def test_dashboard_with_charts_has_no_serious_accessibility_problems(bank, new_page):
    from axe_playwright_python.sync_playwright import Axe

    for phone in (False, True):
        page = new_page(phone=phone, locale="en")
        _sign_in(page, bank, "en")
        page.goto(_pages(bank)["dashboard"])
        page.wait_for_load_state("networkidle")
        charts = page.locator(".chart img")
        assert charts.count() == 2
        # both charts drawn (the narrow drawing on a phone), each with the figures in its text alternative
        assert page.evaluate("() => Array.from(document.querySelectorAll('.chart img')).every(i => i.naturalWidth > 0)")
        assert "Reachability" in charts.nth(0).get_attribute("alt")
        assert page.locator("table caption", has_text="Score by dimension").count() == 1
        violations = [v for v in Axe().run(page).response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not violations, [(v["id"], [n["html"][:120] for n in v["nodes"][:3]]) for v in violations]


def test_a_pdf_made_by_a_worker_downloads_by_itself_when_ready(app, bank, new_page, redis_queue):
    """With RQ, *Make a PDF* shows the progress page, which starts the download when the worker is done."""
    from rq import SimpleWorker

    import worker
    from audit_app.reports.jobs import QUEUE

    page = new_page(locale="en")
    _sign_in(page, bank, "en")
    page.goto(_pages(bank)["channel"])
    page.get_by_role("button", name="Make a PDF").click()
    page.wait_for_url(re.compile(r"/reports/generated/\d+$"))
    assert page.get_by_text("Making the report").is_visible()
    with page.expect_download(timeout=60_000) as download:
        # the worker renders it (in this thread: RQ installs signal handlers); the page, polling, sees it done
        assert worker.work(app, [QUEUE], burst=True, worker_class=SimpleWorker)
    assert download.value.suggested_filename.startswith("pohjolan-pankki_channel_phone_")
    assert page.get_by_role("link", name="Download PDF").is_visible()
