"""The form logic in a real browser: the page's visibility (static/js/form-logic.js) agrees with the
engine's on random checklists and answers; the evaluator's form and the designer's preview show and
hide questions and sections as answers change, at a phone's width; the designer's condition picker."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_app.extensions import db
from audit_app.scoring import CHANNELS, visibility

from . import factories
from .conftest import page_login
from .logic_cases import answer_sets, checklists


def _condition(condition) -> dict | None:
    if condition is None:
        return None
    out: dict = {"question": condition.question}
    if condition.any_of is not None:
        out["any_of"] = sorted(condition.any_of)
    elif condition.at_most is not None:
        out["at_most"] = condition.at_most
    else:
        out["at_least"] = condition.at_least
    return out


def logic_json(spec) -> dict:
    """A spec as the form's data tag carries it (audit_app/checklists/logic.py)."""
    return {"sections": [
        {"key": s.key, "condition": _condition(s.condition),
         "questions": [{"key": q.key, "kind": q.kind, "channels": sorted(q.channels) if q.channels else None,
                        "condition": _condition(q.condition)} for q in s.questions]}
        for s in spec.sections]}


def test_the_browser_decides_visibility_as_the_engine_does(new_page):
    page = new_page()
    page.goto("/login")
    page.add_script_tag(url="/static/js/form-logic.js")
    page.wait_for_function("() => !!window.FormLogic")
    cases = []

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.data())
    def collect(data):
        spec = data.draw(checklists(min_sections=1, logic=True, max_sections=5, max_questions=6))
        answers = data.draw(answer_sets(spec))
        channel = data.draw(st.none() | st.sampled_from(CHANNELS))
        expected = visibility(spec, answers, channel)
        cases.append({
            "logic": logic_json(spec), "channel": channel,
            "answers": {k: {"value": a.value, "na": a.na} for k, a in answers.items()},
            "expected": {"sections": dict(expected.sections), "questions": dict(expected.questions)},
        })

    collect()
    assert len(cases) >= 100
    # some cases really hide things by conditions, or the comparison would prove little
    assert sum(1 for c in cases if not all(c["expected"]["questions"].values())) > len(cases) / 4
    got = page.evaluate(
        "cases => cases.map(c => FormLogic.visibility(c.logic, c.answers, c.channel))",
        json.loads(json.dumps(cases)),
    )
    for case, result in zip(cases, got, strict=True):
        assert result == case["expected"], json.dumps(case)[:2000]


def _logic_visit(app, world, status="assigned"):
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        version = factories.make_version(factories.logic_doc())
        visit = factories.make_visit(client, evaluator, version, status=status)
        db.session.commit()
        return visit.id, version.id, {q.key: q.id for q in version.questions()}


def _shown(page, qid) -> bool:
    return page.is_visible(f"#sq-q-{qid}")


def test_the_evaluators_form_follows_the_answers_without_a_round_trip(app, world, new_page):
    vid, _, q = _logic_visit(app, world)
    page = new_page(phone=True, locale="en")
    page_login(page, "eva@t.example")
    page.goto(f"/visits/{vid}/form")
    page.click("text=Aloita käynti")
    page.wait_for_selector("#sq-form[data-logic-ready=true]")
    page.wait_for_selector("#sq-form[data-ready=true]")
    assert "Osio 1/2" in page.inner_text("#sq-progress")  # the gate is not answered: no privacy section
    assert not _shown(page, q["callback"])  # no queue yet
    requests = []
    page.on("request", lambda r: r.resource_type == "document" and requests.append(r.url))
    page.fill(f"#q-{q['queue']}", "20")
    page.wait_for_function(f"() => !document.getElementById('sq-q-{q['callback']}').hidden")
    page.fill(f"#q-{q['queue']}", "3")
    page.wait_for_function(f"() => document.getElementById('sq-q-{q['callback']}').hidden")
    # the gate: no leaves the privacy section out of the progress and out of the way
    page.click(f"label[for='q-{q['gate']}-no']")
    page.wait_for_function("() => document.getElementById('sq-progress').textContent.includes('1/2')")
    assert page.get_attribute("#sq-next", "href").endswith("section=3")
    page.click(f"label[for='q-{q['gate']}-yes']")
    page.wait_for_function("() => document.getElementById('sq-progress').textContent.includes('1/3')")
    assert page.get_attribute("#sq-next", "href").endswith("section=2")
    assert requests == []  # no page was loaded for any of it
    # multi-select as checkboxes, date and time as the phone's own inputs
    page.click(f"label[for='q-{q['ways']}-phone']")
    page.click(f"label[for='q-{q['ways']}-chat']")
    assert page.get_attribute(f"#q-{q['day']}", "type") == "date"
    assert page.get_attribute(f"#q-{q['clock']}", "type") == "time"
    page.fill(f"#q-{q['day']}", "2025-03-14")
    page.fill(f"#q-{q['clock']}", "09:30")
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '0'")
    with app.app_context():
        from sqlalchemy import select

        from audit_app.submissions.models import Answer

        db.session.remove()
        stored = {a.question_id: a.value for a in db.session.scalars(select(Answer).where(Answer.visit_id == vid))}
    assert stored[q["ways"]] == ["phone", "chat"] and stored[q["day"]] == "2025-03-14"
    assert stored[q["clock"]] == "09:30" and stored[q["queue"]] == 3 and stored[q["gate"]] is True
    # the gate answered no: on the last shown section Submit replaces Next, also after a reload
    page.click(f"label[for='q-{q['gate']}-no']")
    page.wait_for_function("() => document.getElementById('sq-form').dataset.pending === '0'")
    page.click("#sq-next")
    page.wait_for_selector("#sq-form[data-logic-ready=true]")
    assert "Osio 2/2" in page.inner_text("#sq-progress")
    assert page.is_visible("#sq-bar-submit") and not page.is_visible("#sq-next")
    assert page.get_attribute("#sq-back", "href").endswith("section=1")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path="/tmp/form-logic-phone.png", full_page=True)


def test_the_preview_evaluates_conditions_live_per_channel_at_phone_width(app, world, new_page):
    _, version_id, q = _logic_visit(app, world)
    page = new_page(phone=True, locale="en")
    page_login(page, "admin@t.example")
    page.goto(f"/admin/checklists/versions/{version_id}/preview?channel=phone")
    page.wait_for_selector("#preview-root[data-logic-ready=true]")
    callback = "[data-logic-question='callback']"
    privacy = "[data-logic-section='privacy']"
    assert not page.is_visible(callback) and not page.is_visible(privacy)
    page.fill(f"#q-{q['queue']}", "12")
    page.wait_for_function("() => !document.querySelector(\"[data-logic-question='callback']\").hidden")
    page.click(f"label[for='q-{q['gate']}-yes']")
    page.wait_for_function("() => !document.querySelector(\"[data-logic-section='privacy']\").hidden")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path="/tmp/form-logic-preview.png", full_page=True)
    page.click(f"label[for='q-{q['gate']}-no']")
    page.wait_for_function("() => document.querySelector(\"[data-logic-section='privacy']\").hidden")


def test_the_condition_picker_offers_the_chosen_questions_values(app, world, new_page):
    with app.app_context():
        version = factories.make_version(factories.logic_doc(), publish=False)
        db.session.commit()
        version_id = version.id
        premises = next(x.id for x in version.questions() if x.key == "premises")
        empathy = version.sections[2].id
    page = new_page(locale="en")
    page_login(page, "admin@t.example")
    page.goto(f"/admin/checklists/versions/{version_id}/questions/{premises}")
    assert not page.is_visible("[data-condition-for='ways']")
    page.select_option("#cond_question", "ways")
    assert page.is_visible("[data-condition-for='ways']") and not page.is_visible("[data-condition-for='queue']")
    page.check("#cond_any_ways_chat")
    page.select_option("#follow_up", "comment")
    page.screenshot(path="/tmp/form-logic-picker.png", full_page=True)
    page.click("#question-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    with app.app_context():
        from audit_app.checklists.models import Question

        db.session.remove()
        question = db.session.get(Question, premises)
        assert question.condition == {"question": "ways", "any_of": ["chat"]} and question.follow_up == "comment"
    # a question whose only earlier question is the queue: an at-least bound
    page.goto(f"/admin/checklists/versions/{version_id}/sections/{empathy}")
    page.select_option("#cond_question", "queue")
    page.select_option("#cond_op_queue", "at_least")
    page.fill("#cond_bound_queue", "5")
    page.locator("form:has(#cond_question) button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    with app.app_context():
        from audit_app.checklists.models import Section

        db.session.remove()
        assert db.session.get(Section, empathy).condition == {"question": "queue", "at_least": 5}
