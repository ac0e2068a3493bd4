"""The evaluator's pool journey on a phone, in both languages: pass a quiz, take a job from the board,
find it under My visits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit_app.extensions import db
from audit_app.quality import operations

from . import factories
from .conftest import page_login

TEXT = {
    "fi": {"quiz": "Tee testi", "send": "Lähetä vastaukseni", "passed": "Läpäisit", "take": "Ota tämä tehtävä",
           "mine": "Tehtävä on sinun"},
    "en": {"quiz": "Take the quiz", "send": "Send my answers", "passed": "You passed", "take": "Take this job",
           "mine": "The job is yours"},
}


@pytest.mark.parametrize("language", ["fi", "en"])
def test_pass_a_quiz_take_a_job_see_it_in_my_visits(app, world, new_page, language, tmp_path):
    with app.app_context():
        client = db.session.merge(world.client_a)
        db.session.merge(world.evaluator).language = language
        version = factories.make_version()
        location = factories.make_location(client, name="Kamppi branch", city="Helsinki", region="Uusimaa")
        visit = factories.make_visit(client, db.session.merge(world.evaluator2), version, channel="in_person",
                                     location=location)
        operations.publish([visit], claim_deadline=date.today() + timedelta(days=3), by=db.session.merge(world.admin))
        quiz = operations.quiz_for(version.checklist_id, create=True)
        operations.add_quiz_question(quiz, prompt_en="Who is greeted first?", prompt_fi="Kuka tervehditään ensin?",
                                     options_en="The customer\nThe manager", options_fi="Asiakas\nEsimies", correct=1)
        operations.set_quiz_settings(quiz, pass_mark=100, active=True)
        db.session.commit()
        visit_id = visit.id
    t = TEXT[language]
    page = new_page(phone=True, locale=language)
    page_login(page, "eva@t.example")

    page.goto("/jobs")
    assert page.locator(".job-card").count() == 0  # not certified yet: the board sends to the quizzes
    page.click(".alert a[href='/quizzes']")
    page.click(f"text={t['quiz']}")
    page.check("input[type=radio][value='0']")
    page.screenshot(path=str(tmp_path / f"quiz-{language}.png"), full_page=True)
    page.click(f"text={t['send']}")
    assert t["passed"] in page.content()

    page.goto("/jobs")
    card = page.locator(".job-card:not(.mine)")
    assert card.count() == 1 and "Kamppi branch" in card.inner_text()
    page.screenshot(path=str(tmp_path / f"board-{language}.png"), full_page=True)
    card.get_by_role("button", name=t["take"]).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/my/visits")
    assert t["mine"] in page.content()
    assert page.locator(f".visit-card[data-visit-id='{visit_id}']").count() == 1
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / f"mine-{language}.png"), full_page=True)
    import shutil

    for name in ("quiz", "board", "mine"):
        shutil.copy(tmp_path / f"{name}-{language}.png", f"/tmp/q18-{name}-{language}.png")
