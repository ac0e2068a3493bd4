"""Accessibility: axe-core in the browser on the main screens of each role, and keyboard-only use.

axe.js comes bundled with ``axe-playwright-python`` (no CDN). A violation of serious or critical
impact fails the test, with the rule, the help text and the offending elements printed.
"""

from __future__ import annotations

import os

import pytest

from audit_app.extensions import db

from . import factories
from .conftest import page_login

# AXE_IMPACTS=minor,moderate,serious,critical shows the lesser findings too
BLOCKING = tuple(os.environ.get("AXE_IMPACTS", "serious,critical").split(","))


@pytest.fixture
def screens(app, world):
    """One visit to do (evaluator), one waiting for review (admin), one approved (client)."""
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        doc = factories.small_doc()
        doc["sections"][1]["questions"][0]["photo"] = "allowed"  # q4: photos beside the failed item
        version = factories.make_version(doc)
        location = factories.make_location(client)
        factories.make_client_channel(client)
        todo = factories.make_visit(client, evaluator, version, status="in_progress", location=location)
        assigned = factories.make_visit(client, evaluator, version, status="assigned")
        submitted = factories.make_scored_visit(client, evaluator, version, status="submitted", location=location)
        factories.answer(submitted, "q4", False, comment="Nobody asked who I was.")
        approved = factories.make_scored_visit(client, evaluator, version, status="approved", location=location)
        factories.answer(approved, "q6", "Friendly <b>staff</b>")
        # photos: on the form being answered, on the one in review, and on the failed item of the approved one
        questions = {q.key: q.id for q in version.questions()}
        for visit, status in ((todo, "in_progress"), (submitted, "submitted"), (approved, "approved")):
            visit.status = "in_progress"
            factories.make_photo(visit, evaluator, question_id=questions["q5"], caption="The counter")
            factories.make_photo(visit, evaluator, question_id=questions["q4"] if visit is approved else None, caption="")
            visit.status = status
        db.session.commit()
        return {
            "todo": todo.id, "assigned": assigned.id, "submitted": submitted.id, "approved": approved.id,
            "location": location.id, "client": client.id,
            "questions": {q.key: q.id for q in version.questions()},
        }


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " | ")
            if summary:
                lines.append(f"       {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    violations = axe_violations(page)
    assert not violations, f"axe found serious/critical problems on {what} ({page.url}):\n{describe(violations)}"


UNLABELLED_FIELDS_JS = """
() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => !['hidden', 'submit', 'button', 'reset', 'image'].includes(el.type))
  .filter(el => {
    const labelled = (el.labels && Array.from(el.labels).some(l => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
           .some(id => (document.getElementById(id) || {textContent: ''}).textContent.trim())
      || (el.getAttribute('title') || '').trim();
    return !labelled;
  })
  .map(el => el.outerHTML.slice(0, 200))
"""


def assert_every_field_labelled(page) -> None:
    unlabelled = page.evaluate(UNLABELLED_FIELDS_JS)
    assert not unlabelled, f"fields without a label on {page.url}:\n" + "\n".join(unlabelled)


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_login_page(new_page, lang):
    page = new_page(locale=lang)
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == lang
    assert_accessible(page, "the login page")
    assert_every_field_labelled(page)


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_evaluator_screens_on_a_phone(app, world, screens, new_page, lang):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["evaluator"]).language = lang
        db.session.commit()
    page = new_page(phone=True, locale=lang)
    page_login(page, "eva@t.example")
    page.goto("/my/visits")
    assert_accessible(page, "My visits")
    page.goto(f"/visits/{screens['assigned']}/form")
    assert_accessible(page, "the start page of a visit")
    for section in (1, 2):
        page.goto(f"/visits/{screens['todo']}/form?section={section}")
        page.wait_for_selector("#sq-form[data-ready=true]")
        assert_accessible(page, f"section {section} of the visit form")
        assert_every_field_labelled(page)


def test_qa_review_screen(app, world, screens, new_page):
    page = new_page()
    page_login(page, "admin@t.example")
    page.goto(f"/admin/visits/{screens['submitted']}/review")
    assert page.locator("main img").count() >= 2  # the photos are part of what is checked
    assert_accessible(page, "the QA review")
    assert_every_field_labelled(page)
    page.goto("/admin/review")
    assert_accessible(page, "the review queue")


@pytest.mark.parametrize("lang", ["fi", "en"])
def test_client_dashboard_and_reports(app, world, screens, new_page, lang):
    with app.app_context():
        from audit_app.accounts.models import User

        db.session.get(User, world.ids["client_user"]).language = lang
        db.session.commit()
    page = new_page(locale=lang)
    page_login(page, "client@a.example")
    page.goto("/dashboard")
    assert_accessible(page, "the dashboard")
    assert_every_field_labelled(page)
    page.goto(f"/reports/locations/{screens['location']}")
    assert_accessible(page, "the location report")
    page.goto(f"/reports/visits/{screens['approved']}")
    assert page.locator("main img").count() >= 1
    assert_accessible(page, "the visit report")


# --- the keyboard alone ----------------------------------------------------------------------


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching selector has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("sel => document.activeElement && document.activeElement.matches(sel)", selector):
            return
    active = page.evaluate("document.activeElement && document.activeElement.outerHTML.slice(0, 200)")
    raise AssertionError(f"{selector} was not reached with Tab (focus is on {active})")


def test_login_with_the_keyboard_alone(world, new_page):
    page = new_page(locale="en")
    page.goto("/login")
    tab_to(page, "input[name=email]")
    page.keyboard.type("eva@t.example")
    tab_to(page, "input[name=password]")
    page.keyboard.type("correct-horse-battery")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url


def test_answer_and_submit_with_the_keyboard_alone(app, world, screens, new_page):
    """The last missing answer is given with Tab and Space, and the visit is submitted with Enter."""
    q = screens["questions"]
    with app.app_context():
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, screens["todo"])
        for key, value in (("q1", True), ("q2", 3), ("q3", 4), ("q4", True)):
            factories.answer(visit, key, value)
        db.session.commit()
    page = new_page(phone=True, locale="en")
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{screens['todo']}/form?section=2")
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert_every_field_labelled(page)
    # the yes/no buttons are a radio group: Tab reaches it, Space picks the focused option
    tab_to(page, f"input[name='q-{q['q5']}']")
    page.keyboard.press("Space")
    focused = page.evaluate("document.activeElement.id")
    assert page.is_checked(f"#{focused}")
    # the focus is visible on the chosen button
    outline = page.evaluate(
        "() => { const l = document.querySelector(`label[for='${document.activeElement.id}']`);"
        " const s = getComputedStyle(l); return s.outlineStyle + ' ' + s.boxShadow }")
    assert outline.split()[0] != "none" or "rgba" in outline or "rgb" in outline, outline
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '0'")
    # the photo button of the question is reachable too (its file input takes the focus)
    tab_to(page, f".sq-question[data-question-id='{q['q5']}'] input.ev-file")
    tab_to(page, "#sq-submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#submitted-receipt").count() == 1, page.inner_text("main")
    with app.app_context():
        from audit_app.visits.models import Visit

        db.session.remove()
        assert db.session.get(Visit, screens["todo"]).status == "submitted"


def test_admin_screens(app, world, screens, new_page):
    """The designer and the visit pages an admin uses to prepare the journey."""
    with app.app_context():
        from audit_app.checklists.models import ChecklistVersion

        version = db.session.scalars(db.select(ChecklistVersion)).first()
        section = version.sections[0]
        vid, sid, qid = version.id, section.id, section.questions[0].id
    page = new_page()
    page_login(page, "admin@t.example")
    urls = [
        "/admin/checklists", f"/admin/checklists/versions/{vid}", "/admin/checklists/new",
        f"/admin/checklists/versions/{vid}/preview?channel=phone",
        "/admin/visits", f"/admin/visits/new?client_id={screens['client']}", f"/admin/visits/{screens['approved']}",
        f"/admin/clients/{screens['client']}/locations/new", f"/admin/clients/{screens['client']}/channels/new",
        "/admin/waves/new", f"/admin/waves/new?client_id={screens['client']}",
        "/admin/users", "/admin/users/new", "/admin/clients", "/admin/clients/new", "/admin/dimensions",
        "/admin/checklists/import", "/admin/locations-and-channels",
        f"/admin/clients/{screens['client']}/locations", f"/admin/clients/{screens['client']}/channels",
        f"/admin/clients/{screens['client']}/locations/import", "/dashboard", f"/reports/clients/{screens['client']}/summary",
        f"/reports/clients/{screens['client']}/logo",
    ]
    for url in urls:
        page.goto(url)
        assert_accessible(page, url)
        assert_every_field_labelled(page)
    # a draft's section and question forms
    page.goto(f"/admin/checklists/versions/{vid}")
    with page.expect_navigation():
        page.locator("form[action$='/new-draft'] button").click()
    draft = page.url
    page.goto(draft)
    page.locator("a[href*='/questions/new']").first.click()
    page.wait_for_load_state("networkidle")
    assert_accessible(page, "the new question form")
    assert_every_field_labelled(page)
    page.goto(draft)
    page.locator("a[href$='/sections/new']").click()
    page.wait_for_load_state("networkidle")
    assert_accessible(page, "the new section form")
    assert_every_field_labelled(page)
    assert sid and qid


def test_returned_visit_and_pdf_status(app, world, screens, new_page):
    """The evaluator's view of a returned visit, and the PDF status page of a client."""
    with app.app_context():
        from audit_app.visits.models import Visit

        visit = db.session.get(Visit, screens["submitted"])
        visit.status = "returned"
        visit.return_comment = "Please check the identity question."
        db.session.commit()
    page = new_page(phone=True)
    page_login(page, "eva@t.example")
    page.goto("/my/visits")
    assert_accessible(page, "My visits with a returned visit")
    page.goto(f"/visits/{screens['submitted']}/form?section=2")
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert_accessible(page, "a returned visit's form")
    page.goto(f"/visits/{screens['approved']}/form")
    assert_accessible(page, "an approved visit, read-only")

    client = new_page()
    page_login(client, "client@a.example")
    client.goto(f"/reports/locations/{screens['location']}")
    with client.expect_download():  # made in the request: the PDF itself, in one step
        client.locator("form[action*='/pdf/'] button[type=submit]").click()
    client.goto("/reports/generated")
    assert_accessible(client, "my reports")
    client.goto(client.locator("a[href$='/download']").first.get_attribute("href").removesuffix("/download"))
    assert_accessible(client, "the PDF status page")


def test_client_screens_on_a_phone(app, world, screens, new_page):
    """Clients read reports on phones too: axe at 360 px, and nothing wider than the screen but tables."""
    page = new_page(phone=True, locale="en")
    page_login(page, "client@a.example")
    for url in ("/dashboard", f"/reports/locations/{screens['location']}", f"/reports/visits/{screens['approved']}"):
        page.goto(url)
        assert_accessible(page, f"{url} on a phone")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{url} is {width} px wide on a 360 px phone"


def test_account_and_error_pages(world, new_page):
    page = new_page(locale="en")
    page.goto("/no-such-page")
    assert_accessible(page, "the 404 page")
    page_login(page, "eva@t.example")
    for url in ("/", "/account", "/account/password"):
        page.goto(url)
        assert_accessible(page, url)
        assert_every_field_labelled(page)
    # a form sent back with errors names them next to the fields
    page = new_page(locale="en")
    page.goto("/login")
    page.fill("input[name=email]", "nobody@t.example")
    page.fill("input[name=password]", "wrong password")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_accessible(page, "the login page with an error")


def test_review_decision_with_the_keyboard_alone(app, world, screens, new_page):
    page = new_page(locale="en")
    page_login(page, "admin@t.example")
    page.goto(f"/admin/visits/{screens['submitted']}/review")
    tab_to(page, "#return-comment")
    page.keyboard.type("Please check the identity question.")
    tab_to(page, "form[action$='/return'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    with app.app_context():
        from audit_app.visits.models import Visit

        db.session.remove()
        visit = db.session.get(Visit, screens["submitted"])
        assert visit.status == "returned" and visit.return_comment == "Please check the identity question."
