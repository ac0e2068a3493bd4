"""The evaluator's form in a real browser at a phone's width: autosave that never loses an answer."""

from __future__ import annotations

from sqlalchemy import select

from audit_app.extensions import db
from audit_app.submissions.models import Answer
from audit_app.visits.models import Visit

from . import factories
from .conftest import page_login
from .helpers import wait_for


def stored_answers(app, visit_id) -> dict:
    with app.app_context():
        db.session.remove()
        rows = db.session.execute(select(Answer).where(Answer.visit_id == visit_id)).scalars().all()
        return {a.question.key: (a.value, a.na, a.comment) for a in rows}


def saved(page):
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '0'")


def test_answers_survive_reload_and_offline_then_submit(app, world, new_page):
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version()
        visit = factories.make_visit(client, evaluator, version, status="assigned")
        db.session.commit()
        vid = visit.id
        q = {question.key: question.id for question in version.questions()}

    page = new_page(phone=True)
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form")
    page.click("text=Aloita käynti")
    page.wait_for_selector("#sq-progress")
    assert "Osio 1/2 · Tavoitettavuus" in page.inner_text("#sq-progress")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # tap targets are at least 48 px high, text at least 16 px
    box = page.locator(f"label[for='q-{q['q1']}-yes']").bounding_box()
    assert box["height"] >= 48
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16

    page.click(f"label[for='q-{q['q1']}-yes']")
    page.fill(f"#q-{q['q2']}", "7")
    page.click(f"label[for='q-{q['q3']}-na']")
    page.fill(f"#q-{q['q1']}-comment", "Number on the front page")
    saved(page)
    assert page.inner_text("#sq-state") == "Tallennettu"
    assert wait_for(lambda: stored_answers(app, vid).get("q1") == (True, False, "Number on the front page"))

    # a reload mid-way finds every answer
    page.reload()
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert page.is_checked(f"#q-{q['q1']}-yes")
    assert page.input_value(f"#q-{q['q2']}") == "7"
    assert page.is_checked(f"#q-{q['q3']}-na")
    assert page.input_value(f"#q-{q['q1']}-comment") == "Number on the front page"

    # the stopwatch keeps running across a reload
    page.click(f".sq-question[data-question-id='{q['q2']}'] [data-stopwatch]")
    page.reload()
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert page.get_attribute(f".sq-question[data-question-id='{q['q2']}'] [data-stopwatch]", "aria-pressed") == "true"
    page.click(f".sq-question[data-question-id='{q['q2']}'] [data-stopwatch]")
    assert page.input_value(f"#q-{q['q2']}") == "0"  # elapsed minutes (a few seconds: 0.0)
    saved(page)
    page.fill(f"#q-{q['q2']}", "7")
    saved(page)

    # offline: answers are kept in the browser, survive a reload of the page, and reach the server later
    page.click("#sq-next")
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert "Osio 2/2" in page.inner_text("#sq-progress")
    # a question that takes photos has one camera button: the evidence widget's, not a second dead one
    q5_box = page.locator(f".sq-question[data-question-id='{q['q5']}']")
    assert q5_box.locator("input[type=file]").count() == 1
    assert q5_box.locator("[data-evidence-widget] input[type=file]").count() == 1
    page.context.set_offline(True)
    page.click(f"label[for='q-{q['q5']}-yes']")
    page.fill(f"#q-{q['q6']}", "Friendly staff")
    page.wait_for_function("() => document.getElementById('sq-state').textContent.indexOf('Ei yhteyttä · 2') === 0")
    page.wait_for_timeout(700)  # past the text debounce
    assert "q5" not in stored_answers(app, vid) and "q6" not in stored_answers(app, vid)
    page.context.set_offline(False)
    assert wait_for(lambda: stored_answers(app, vid).get("q5") == (True, False, ""))
    assert wait_for(lambda: stored_answers(app, vid).get("q6", (None,))[0] == "Friendly staff")
    saved(page)
    assert page.inner_text("#sq-state") == "Tallennettu"

    # submission is refused while a required answer (q4) is missing, and names it
    # the click may first wait for an answer still on its way (the text field's change on blur),
    # then the form is submitted by script: wait for that navigation, not just for an idle network
    with page.expect_navigation():
        page.click("#sq-submit")
    assert "Käyntiä ei voi vielä lähettää" in page.content()
    assert "Was your identity verified?" in page.inner_text("#missing")
    page.click("#missing a")
    page.wait_for_selector("#sq-form[data-ready=true]")
    page.click(f"label[for='q-{q['q4']}-no']")
    saved(page)
    with page.expect_navigation():
        page.click("#sq-submit")
    assert "Kiitos! Käynti on lähetetty." in page.content()
    assert page.locator("#submitted-receipt").count() == 1
    page.click("#submitted-receipt a[href$='/form']")  # the answers, now read-only
    assert page.locator("#read-only-note").count() == 1
    with app.app_context():
        visit = db.session.get(Visit, vid)
        assert visit.status == "submitted" and visit.score_overall is not None


def test_pending_answers_survive_a_closed_tab(app, world, new_page):
    """Answers made offline and never sent are restored from the browser and sent on the next visit."""
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        visit = factories.make_visit(client, evaluator, factories.make_version(), status="in_progress")
        db.session.commit()
        vid = visit.id
        q = {question.key: question.id for question in visit.checklist_version.questions()}

    page = new_page(phone=True)
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form")
    page.wait_for_selector("#sq-form[data-ready=true]")
    context = page.context
    context.set_offline(True)
    page.click(f"label[for='q-{q['q1']}-no']")
    page.click(f"label[for='q-{q['q3']}-4']")
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '2'")
    page.close()  # the tab is closed while offline
    assert stored_answers(app, vid) == {}
    context.set_offline(False)
    page = context.new_page()
    page.goto(f"/visits/{vid}/form")
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert page.is_checked(f"#q-{q['q1']}-no") and page.is_checked(f"#q-{q['q3']}-4")
    assert wait_for(lambda: stored_answers(app, vid).get("q3") == (4, False, ""))
    assert stored_answers(app, vid)["q1"] == (False, False, "")
    saved(page)
