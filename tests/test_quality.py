"""The evaluator pool: alpha against hand-computed values, certification before assignment, the job
board's rules, calibration visits kept out of client figures, drift."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from audit_app.core.errors import DomainError, NotAllowed
from audit_app.extensions import db
from audit_app.quality import agreement, operations, queries
from audit_app.visits import operations as visit_ops
from tests import factories

# --- alpha (hand-computed: D_o over pairs within units, D_e over all pairable values) ---------


def test_alpha_complete_matrix():
    # D_o = 0.5/6, D_e = 14.5/30 -> 1 - 5/29 = 24/29
    assert agreement.alpha([[0, 0.5, 1], [0, 1, 1]]) == pytest.approx(24 / 29)


def test_alpha_with_missing_values():
    # units (0,0), (1,1,0.5), (1,1): n = 7, D_o = 0.5/7, D_e = 19/42 -> 1 - 3/19 = 16/19
    assert agreement.alpha([[0, 1, None], [0, 1, 1], [None, 0.5, 1]]) == pytest.approx(16 / 19)


def test_alpha_perfect_agreement():
    assert agreement.alpha([[0, 0.5, 1, 0.25], [0, 0.5, 1, 0.25], [0, 0.5, 1, None]]) == pytest.approx(1.0)


def test_alpha_systematic_disagreement():
    # D_o = 1, D_e = 32/56 -> 1 - 7/4
    assert agreement.alpha([[0, 1, 0, 1], [1, 0, 1, 0]]) == pytest.approx(-0.75)


def test_alpha_undefined_and_bands():
    assert agreement.alpha([[1, 1], [1, 1]]) is None  # no variation at all
    assert agreement.alpha([[1, None], [None, 0]]) is None  # nothing pairable
    assert [agreement.band(a) for a in (0.8, 0.79, 0.667, 0.66, None)] == [
        "reliable", "tentative", "tentative", "unreliable", None]


def test_drift_interval_and_flag():
    d = agreement.drift([12, 14, 13, 15, 11])
    assert d.drift == pytest.approx(13) and d.n == 5
    assert d.low == pytest.approx(13 - 2.776 * (2.5 ** 0.5) / 5 ** 0.5)
    assert d.flagged
    assert not agreement.drift([12, -14, 13, -15]).flagged  # interval holds 0
    assert not agreement.drift([5, 6, 5, 6]).flagged  # under 10 points
    assert not agreement.drift([30]).flagged  # one visit: no interval


# --- certification ----------------------------------------------------------------------------


def _quiz(version):
    quiz = operations.quiz_for(version.checklist_id, create=True)
    operations.add_quiz_question(quiz, prompt_en="Who is greeted first?", prompt_fi="Kuka tervehditään ensin?",
                                 options_en="The customer\nThe manager", options_fi="Asiakas\nEsimies", correct=1)
    operations.set_quiz_settings(quiz, pass_mark=100, active=True)
    return quiz


def test_assignment_needs_the_current_quiz(app, world):
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        version = factories.make_version()
        quiz = _quiz(version)
        kw = dict(client=client, channel="phone", version=version, evaluator=evaluator,
                  due_from=date.today(), due_to=date.today())
        with pytest.raises(DomainError, match="testiä"):
            visit_ops.create_visit(**kw)
        db.session.rollback()
        version, quiz, client, evaluator = (db.session.merge(o) for o in (version, quiz, client, evaluator))
        assert not operations.submit_attempt(quiz, evaluator, {quiz.questions[0].id: 1}).passed
        assert operations.submit_attempt(quiz, evaluator, {quiz.questions[0].id: 0}).passed
        kw.update(client=client, version=version, evaluator=evaluator)
        assert visit_ops.create_visit(**kw).evaluator_id == evaluator.id
        # a new question is a new revision: pass again
        operations.add_quiz_question(quiz, prompt_en="Q2", prompt_fi="K2", options_en="a\nb", options_fi="a\nb",
                                     correct=2)
        assert not operations.is_certified(evaluator.id, version.checklist_id)


def test_quiz_refuses_bad_input(app, world):
    with app.app_context():
        version = factories.make_version()
        quiz = operations.quiz_for(version.checklist_id, create=True)
        with pytest.raises(DomainError):
            operations.set_quiz_settings(quiz, pass_mark=50, active=True)  # no questions
        with pytest.raises(DomainError):
            operations.add_quiz_question(quiz, prompt_en="Q", prompt_fi="K", options_en="a\nb", options_fi="a",
                                         correct=1)
        with pytest.raises(DomainError):
            operations.add_quiz_question(quiz, prompt_en="Q", prompt_fi="K", options_en="a\nb", options_fi="a\nb",
                                         correct=3)


def test_evaluator_sees_quiz_without_answers(app, world, login_as):
    with app.app_context():
        quiz = _quiz(factories.make_version())
        db.session.commit()
        quiz_id = quiz.id
    page = login_as("evaluator").get(f"/quizzes/{quiz_id}").get_data(as_text=True)
    assert "Asiakas" in page or "The customer" in page
    assert "Right answer" not in page and "Oikea vastaus" not in page
    assert login_as("admin").get(f"/quizzes/{quiz_id}").status_code == 403


# --- the job board ----------------------------------------------------------------------------


def _job(world, location=None, evaluator="evaluator2"):
    version = factories.make_version()
    visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(getattr(world, evaluator)),
                                 version, location=location)
    (job,), _n = operations.publish([visit], claim_deadline=date.today() + timedelta(days=2),
                                    by=db.session.merge(world.admin))
    return job


def test_take_and_give_back(app, world):
    with app.app_context():
        job = _job(world)
        evaluator = db.session.merge(world.evaluator)
        assert job.visit.evaluator_id is None
        assert [j.id for j in queries.board_for(evaluator).jobs] == [job.id]
        operations.take(job, evaluator)
        assert job.visit.evaluator_id == evaluator.id
        with pytest.raises(NotAllowed, match="Joku muu"):
            operations.take(job, db.session.merge(world.evaluator2))
        operations.give_back(job, evaluator)
        assert job.visit.evaluator_id is None and job.claims[0].given_back_at is not None


def test_limit_and_lockout(app, world):
    with app.app_context():
        client, evaluator = db.session.merge(world.client_a), db.session.merge(world.evaluator)
        operations.save_settings(client, lockout_days=30, max_open_jobs=1)
        location = factories.make_location(client)
        factories.make_visit(client, evaluator, factories.make_version(), location=location, status="approved",
                             visited_on=date.today() - timedelta(days=10))
        job = _job(world, location=location)
        assert "Olet käynyt tässä paikassa" in operations.refusal(job, evaluator)
        other = _job(world)
        factories.make_visit(client, evaluator, factories.make_version())  # one open visit already
        assert "avointa tehtävää" in operations.refusal(other, evaluator)


def test_take_through_the_page(app, world, login_as):
    with app.app_context():
        job_id = _job(world).id
        db.session.commit()
    browser = login_as("evaluator")
    response = browser.post(f"/jobs/{job_id}/take")
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/visits")
    other = login_as("other_evaluator")
    again = other.post(f"/jobs/{job_id}/take")
    assert again.status_code == 303
    assert "Joku muu otti" in other.get("/jobs").get_data(as_text=True)


# --- calibration ------------------------------------------------------------------------------


def _round(world, version):
    return operations.create_round(
        client=db.session.merge(world.client_a), name="Calls in May", version=version, channel="phone",
        location=None, window_start=date.today(), window_end=date.today(),
        evaluators=[db.session.merge(world.evaluator), db.session.merge(world.evaluator2)],
        material_text="Customer: hello", by=db.session.merge(world.admin))


def test_calibration_visits_never_released_nor_counted(app, world, login_as):
    from audit_app.reports.queries import base

    with app.app_context():
        client = db.session.merge(world.client_a)
        version = factories.make_version()
        factories.make_scored_visit(client, db.session.merge(world.evaluator), version)
        rnd = _round(world, version)
        visits = [m.visit for m in rnd.members]
        answers = [factories.WORKED_EXAMPLE, {"q1": False, "q2": 1, "q3": 5, "q4": True, "q5": False}]
        for visit, given in zip(visits, answers, strict=True):
            visit.status, visit.visited_on = "in_progress", date.today()
            for key, value in given.items():
                factories.answer(visit, key, value, na=value is None)
            visit_ops.transition(visit, "submitted")
            from audit_app.submissions.operations import compute_and_store_scores

            compute_and_store_scores(visit)
        db.session.commit()
        rnd_id, visit_ids = rnd.id, [v.id for v in visits]
        with pytest.raises(NotAllowed):
            visit_ops.transition(visits[0], "approved")
        db.session.rollback()
        from audit_app.quality.models import CalibrationRound
        from audit_app.visits.models import Visit

        visits = [db.session.get(Visit, i) for i in visit_ids]
        report = queries.round_report(db.session.get(CalibrationRound, rnd_id))
        assert len(report.done) == 2 and report.alpha is not None and report.band == "unreliable"
        assert report.lowest and report.raters[0].n > 0
        # a calibration visit forced to approved still counts nowhere
        visit = visits[0]
        db.session.execute(db.update(type(visit)).where(type(visit).id == visit.id).values(status="approved"))
        db.session.commit()
        visit_id, client_id = visit.id, client.id
        conds = base._conditions(base.Filters(client_id=client_id, start=date.today() - timedelta(days=30),
                                              end=date.today()))
        counted = db.session.scalars(db.select(Visit.id).where(*conds)).all()
        assert visit_id not in counted and len(counted) == 1
    assert login_as("client").get(f"/reports/visits/{visit_id}").status_code == 404


def test_the_calibration_material_is_in_the_evaluators_form(app, world, login_as):
    """The round's transcript is read in the form itself (one tap away on every section), not only
    on a page of its own; an ordinary visit's form has no such fold."""
    with app.app_context():
        version = factories.make_version()
        rnd = _round(world, version)
        db.session.commit()
        mine = next(m.visit_id for m in rnd.members if m.visit.evaluator_id == world.ids["evaluator"])
        ordinary = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator),
                                        version).id
        db.session.commit()
    eva = login_as("evaluator")
    assert eva.post(f"/visits/{mine}/start").status_code == 302
    for section in (1, 2):
        page = eva.get(f"/visits/{mine}/form?section={section}").get_data(as_text=True)
        assert 'id="sq-material"' in page and "Customer: hello" in page
    assert 'id="sq-material"' not in eva.get(f"/visits/{ordinary}/form").get_data(as_text=True)


def test_the_job_board_links_each_clients_pool_rules(app, world, login_as):
    page = login_as("admin").get("/admin/jobs").get_data(as_text=True)
    for client in ("client_a", "client_b"):
        assert f'/admin/clients/{world.ids[client]}/pool"' in page
