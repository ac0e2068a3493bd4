"""The improvement journey in a real browser, in both languages: a manager sets a target, self-assesses
on a phone (the evaluators' inputs and form logic), sees the perception gap, creates an action from a
failed item of a visit report and marks it done; a later approved visit verifies it.

``IMPROVEMENT_SHOTS=/some/dir`` keeps a screenshot of each step.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from audit_app.accounts.models import User
from audit_app.extensions import db

from . import factories
from .conftest import page_login

SHOTS = os.environ.get("IMPROVEMENT_SHOTS", "")
GOOD = {"q1": True, "q2": 1, "q3": 5, "q4": True, "q5": True}


def _shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.parametrize("language", ["fi", "en"])
def test_manager_closes_the_loop(app, world, new_page, language):
    with app.app_context():
        user = db.session.get(User, world.ids["client_user"])
        user.manager, user.language = True, language
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        here = factories.make_location(client)
        version = factories.make_version()
        failed = factories.make_scored_visit(client, evaluator, version, location=here,
                                             visited_on=date.today() - timedelta(days=3))
        factories.make_scored_visit(client, evaluator, version, answers=GOOD, location=here,
                                    visited_on=date.today() - timedelta(days=2))
        db.session.commit()
        cid, vid, version_id, lid = client.id, failed.id, version.id, here.id

    desk = new_page(locale=language)
    page_login(desk, world.emails["client"])
    # a target for the overall score: 66.7 against 70 is not met, -3.3
    desk.goto(f"/clients/{cid}/targets")
    desk.select_option("#dimension", "overall")
    desk.fill("#value", "70")
    desk.fill("#applies_from", (date.today() - timedelta(days=30)).isoformat())
    desk.click("#target-form button[type=submit]")
    desk.wait_for_selector("#target-table td.text-end")
    desk.goto("/dashboard")
    row = desk.locator("#targets .target-row[data-code=overall]")
    assert "-3.3" in row.inner_text() and row.locator(".target-missed").count() == 1
    _shot(desk, f"{language}-dashboard-targets")

    # the self-assessment on a phone
    phone = new_page(phone=True, locale=language)
    page_login(phone, world.emails["client"])
    phone.goto(f"/clients/{cid}/self-assessments")
    phone.select_option("#version_id", str(version_id))
    phone.select_option("#channel", "phone")
    phone.click("#self-start-form button[type=submit]")
    phone.wait_for_selector("#self-form")
    with app.app_context():
        from audit_app.checklists.models import ChecklistVersion

        ids = {q.key: q.id for q in db.session.get(ChecklistVersion, version_id).questions()}
    phone.click(f"label[for=q-{ids['q1']}-yes]")
    phone.fill(f"#q-{ids['q2']}", "1")
    phone.click(f"label[for=q-{ids['q3']}-5]")
    phone.click(f"label[for=q-{ids['q4']}-yes]")
    phone.click(f"label[for=q-{ids['q5']}-yes]")
    _shot(phone, f"{language}-self-assessment-phone")
    phone.click("#self-submit")
    phone.wait_for_selector("#self-score")
    phone.goto(f"/clients/{cid}/perception-gap")
    overall = phone.locator(".gap-table tr[data-code=overall] .gap-value")
    assert overall.inner_text().strip() == "+33.3"
    assert phone.locator("img.gap-chart").count() == 1
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 360 + 1
    _shot(phone, f"{language}-perception-gap-phone")

    # an action from the failed item of the visit report, marked done
    desk.goto(f"/reports/visits/{vid}")
    desk.locator("a.action-from-item").first.click()
    desk.fill("#what", "Ask for identification before anything else")
    desk.click("#action-form button[type=submit]")
    desk.wait_for_selector("#action-status")
    desk.set_input_files("#file", {"name": "fix.jpg", "mimeType": "image/jpeg", "buffer": factories.jpeg_bytes()})
    desk.fill("#caption", "New sign at the desk")
    desk.click("#action-photo-form button[type=submit]")
    desk.wait_for_selector("#action-photos img")
    desk.select_option("#status", "done")
    desk.click("#action-status-form button[type=submit]")
    desk.wait_for_selector(".action-status-done")
    action_url = desk.url
    _shot(desk, f"{language}-action-done")

    # a later approved visit passing the question verifies it
    with app.app_context():
        from audit_app.submissions.operations import approve_visit

        later = factories.make_scored_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                            db.session.get(type(failed), vid).checklist_version, answers=GOOD,
                                            status="submitted", location=db.session.get(type(here), lid))
        approve_visit(later, db.session.get(User, world.ids["admin"]))
        db.session.commit()
        later_id = later.id
    desk.goto(action_url)
    assert desk.locator(".action-status-verified").count() == 1
    assert desk.locator(f"#decided-by a[href$='/reports/visits/{later_id}']").count() == 1
    _shot(desk, f"{language}-action-verified")
    desk.goto(f"/clients/{cid}/actions?status=verified")
    assert desk.locator(".action-row").count() == 1
    with app.app_context():
        from audit_app.improvement.models import CorrectiveAction

        assert db.session.scalar(select(CorrectiveAction.status)) == "verified"


BLOCKING = ("serious", "critical")


@pytest.mark.parametrize("language", ["fi", "en"])
def test_improvement_pages_pass_axe_on_a_phone(app, world, new_page, language):
    from axe_playwright_python.sync_playwright import Axe

    from audit_app.improvement import operations

    with app.app_context():
        user = db.session.get(User, world.ids["client_user"])
        user.manager, user.language = True, language
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        visit = factories.make_scored_visit(client, evaluator, version)
        factories.make_scored_visit(client, evaluator, version, answers=GOOD)
        operations.set_target(client.id, user, dimension="overall", channel=None, value=70, applies_from=date.today())
        sa = operations.start_self_assessment(client.id, user, version=version, channel="phone", location=None)
        ids = {q.key: q.id for q in version.questions()}
        operations.save_self_answers(sa, {ids[k]: (v, False, "") for k, v in GOOD.items()})
        operations.submit_self_assessment(sa)
        draft = operations.start_self_assessment(client.id, user, version=version, channel="chat", location=None)
        question = next(q for q in version.questions() if q.key == "q4")
        action = operations.create_action(client.id, user, question=question, what="Check IDs", owner=user,
                                          due_on=date.today(), visit=visit)
        db.session.commit()
        cid, draft_id, action_id, visit_id = client.id, draft.id, action.id, visit.id
    page = new_page(phone=True, locale=language)
    page_login(page, world.emails["client"])
    for url in (f"/clients/{cid}/improvement", f"/clients/{cid}/targets", f"/clients/{cid}/self-assessments",
                f"/self-assessments/{draft_id}", f"/clients/{cid}/perception-gap", f"/clients/{cid}/actions",
                f"/actions/{action_id}", f"/clients/{cid}/actions/new?visit_id={visit_id}&key=q4"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        violations = [v for v in Axe().run(page).response["violations"] if v.get("impact") in BLOCKING]
        assert not violations, (url, [(v["id"], [n["html"][:120] for n in v["nodes"][:3]]) for v in violations])
        _shot(page, f"{language}-axe-{url.strip('/').replace('/', '-').split('?')[0]}")
