"""Issue 13 in a real browser: the evaluator's form and My visits fit a 360 px phone, the admin's
navigation fits one line at 1280 px, the review screen and the submit receipt pass axe, a pasted
text that is too long is not cut silently, a refused photo shows its message instead of a thumbnail.

SHOTS=/some/dir saves screenshots of the changed pages (phone and desktop, both languages)."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest

from audit_app.extensions import db

from . import factories
from .conftest import page_login

SHOTS = os.environ.get("SHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def axe_blocking(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("networkidle")
    violations = Axe().run(page).response["violations"]
    return [(v["id"], v["help"], [n["target"] for n in v["nodes"][:5]]) for v in violations
            if v.get("impact") in ("serious", "critical")]


def set_language(app, user_id: int, lang: str) -> None:
    from audit_app.accounts.models import User

    with app.app_context():
        db.session.get(User, user_id).language = lang
        db.session.commit()


@pytest.fixture
def visits(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        doc = factories.small_doc()
        doc["sections"][0]["questions"][0]["photo"] = "required"
        version = factories.make_version(doc)
        location = factories.make_location(client)
        todo = factories.make_visit(client, evaluator, version, status="in_progress", location=location,
                                    scenario="Call as a customer who wants to move a payment date. " * 6)
        assigned = factories.make_visit(client, evaluator, version, status="assigned")
        returned = factories.make_visit(client, evaluator, version, status="returned")
        returned.due_from, returned.due_to = date.today() - timedelta(days=10), date.today() - timedelta(days=2)
        returned.return_comment = "Time the queue again."
        submitted = factories.make_scored_visit(client, evaluator, version, status="submitted", location=location)
        questions = {q.key: q.id for q in version.questions()}
        submitted.status = "in_progress"
        factories.make_photo(submitted, evaluator, question_id=questions["q5"], caption="The counter")
        factories.make_photo(submitted, evaluator, caption="The front door")
        submitted.status = "submitted"
        db.session.commit()
        return {"todo": todo.id, "assigned": assigned.id, "returned": returned.id, "submitted": submitted.id,
                "questions": questions}


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_evaluator_pages_fit_a_phone(app, world, visits, new_page, lang):
    set_language(app, world.ids["evaluator"], lang)
    page = new_page(phone=True, locale=lang)
    page_login(page, "eva@t.example")
    page.goto("/my/visits")
    shot(page, f"my-visits-phone-{lang}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    overdue = page.locator(f"[data-visit-id='{visits['returned']}'] .visit-overdue")
    assert overdue.count() == 1 and page.locator(".visit-overdue").count() == 1
    # before the start: no "Saved", no bar
    page.goto(f"/visits/{visits['assigned']}/form")
    assert page.locator("#sq-state").count() == 0
    shot(page, f"form-start-phone-{lang}")
    for section in (1, 2):
        page.goto(f"/visits/{visits['todo']}/form?section={section}")
        page.wait_for_selector("#sq-form[data-ready=true]")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, section
        shot(page, f"form-section{section}-phone-{lang}")
    # section 2 has the photo question; section 1: the scenario folds into one line, the camera is in its block
    page.goto(f"/visits/{visits['todo']}/form?section=1")
    page.wait_for_selector("#sq-form[data-ready=true]")
    summary = page.locator("#sq-scenario summary")
    assert summary.bounding_box()["height"] <= 60
    q1 = visits["questions"]["q1"]
    block = page.locator(f"#question-{q1}")
    assert block.locator(".ev-camera").count() == 1  # inside the question's own block
    assert block.locator(".cl-photo-label .text-danger").count() == 1  # a required photo is marked
    # the first question is on the first screen
    assert block.bounding_box()["y"] < 740


def test_refused_upload_shows_its_message_in_place_of_the_thumbnail(app, world, visits, new_page):
    set_language(app, world.ids["evaluator"], "en")
    page = new_page(phone=True, locale="en")
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{visits['todo']}/form?section=1")
    page.wait_for_selector("#sq-form[data-ready=true]")
    widget = page.locator(f"#question-{visits['questions']['q1']} [data-evidence-widget]")
    widget.locator(".ev-file").set_input_files(
        files=[{"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"this is not a picture at all"}])
    tile = widget.locator(".ev-item.ev-refused")
    tile.wait_for()
    assert "not accepted" in tile.inner_text()
    assert tile.locator("img").count() == 0 and tile.locator(".ev-caption").count() == 0
    assert tile.locator(".ev-remove").count() == 1
    shot(page, "form-refused-photo-phone-en")
    tile.locator(".ev-remove").click()
    assert widget.locator(".ev-item").count() == 0


def test_pasted_return_comment_is_not_cut_silently(app, world, visits, new_page):
    set_language(app, world.ids["admin"], "en")
    page = new_page(locale="en")
    page_login(page, "admin@t.example")
    page.goto(f"/admin/visits/{visits['submitted']}/review")
    area = page.locator("#return-comment")
    assert "5,000 characters left" in page.inner_text(f"#{area.get_attribute('aria-describedby').split()[-1]}")
    area.focus()
    page.evaluate("""() => {
        const el = document.getElementById('return-comment');
        const data = new DataTransfer();
        data.setData('text/plain', 'x'.repeat(21600));
        el.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        el.value = 'x'.repeat(5000);  // what the browser's own paste leaves in a maxlength=5000 field
        el.dispatchEvent(new Event('input', {bubbles: true}));
    }""")
    cut = page.locator("#return-comment ~ .tl-cut")
    cut.wait_for()
    assert "16,600 characters were cut off" in cut.inner_text()
    assert "No room left" in page.inner_text("#return-comment ~ .tl-count")
    shot(page, "review-return-comment-cut-en")


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_review_screen_and_receipt_pass_axe(app, world, visits, new_page, lang):
    set_language(app, world.ids["admin"], lang)
    page = new_page(locale=lang)
    page_login(page, "admin@t.example")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"/admin/visits/{visits['submitted']}/review")
    answer = page.locator(f"#answer-{visits['questions']['q5']}")
    assert answer.locator("img.rv-photo-img").count() == 1  # the photo beside its answer
    assert answer.locator(".answer-points").count() == 1
    assert page.locator("#visit-photos img.rv-photo-img").count() == 1  # the visit as a whole
    assert axe_blocking(page) == []
    shot(page, f"review-desktop-{lang}")
    # the navigation fits one line at 1280 px
    items = page.locator("nav.navbar .nav-link, nav.navbar .btn, nav.navbar .navbar-brand")
    boxes = [items.nth(i).bounding_box() for i in range(items.count()) if items.nth(i).is_visible()]
    middles = {round(b["y"] + b["height"] / 2) for b in boxes}
    assert max(middles) - min(middles) <= 12, middles  # one line: every item on the same middle line
    assert page.locator("button.navbar-toggler").is_hidden()
    nav = page.locator("nav.navbar").bounding_box()
    assert nav["height"] <= 72, nav
    for path in ("/admin/visits", "/admin/review", f"/admin/visits/{visits['returned']}"):
        page.goto(path)
        shot(page, f"admin{path.replace('/', '-')}-desktop-{lang}")
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/admin/visits/{visits['submitted']}/review")
    shot(page, f"review-phone-{lang}")
    # the receipt after submitting
    set_language(app, world.ids["evaluator"], lang)
    eva = new_page(phone=True, locale=lang)
    page_login(eva, "eva@t.example")
    eva.goto(f"/visits/{visits['todo']}/form?section=2")
    eva.wait_for_selector("#sq-form[data-ready=true]")
    with app.app_context():
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, visits["todo"])
        for key, value in factories.WORKED_EXAMPLE.items():
            factories.answer(visit, key, value, na=value is None)
        factories.make_photo(visit, db.session.merge(world.evaluator), question_id=visits["questions"]["q1"])
        db.session.commit()
    with eva.expect_navigation():
        eva.click("#sq-submit")
    eva.wait_for_selector("#submitted-receipt")
    counts = eva.inner_text("#receipt-counts")
    assert counts.startswith("5 ") and "1 " in counts, counts  # five answers (one N/A), one photo
    assert eva.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_blocking(eva) == []
    shot(eva, f"receipt-phone-{lang}")
