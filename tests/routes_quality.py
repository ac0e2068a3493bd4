"""Access table of the quality package's routes (merged into tests/test_access_map.py)."""

from __future__ import annotations

from datetime import date, timedelta

from audit_app.extensions import db

from . import factories

ADMIN_ONLY = {"admin"}
EVALUATOR_ONLY = {"evaluator"}
ADMIN_EVALUATOR = {"admin", "evaluator"}


def no_args(world):
    return {}


def _checklist(world):
    def make():
        version = factories.make_version()
        db.session.commit()
        return version.checklist_id

    return {"checklist_id": world.once("quality.checklist", make)}


def _quiz(world):
    def make():
        from audit_app.quality import operations

        version = factories.make_version()
        quiz = operations.quiz_for(version.checklist_id, create=True)
        question = operations.add_quiz_question(quiz, prompt_en="Q?", prompt_fi="K?", options_en="a\nb",
                                                options_fi="a\nb", correct=1)
        operations.set_quiz_settings(quiz, pass_mark=50, active=True)
        db.session.commit()
        return quiz.id, question.id

    return world.once("quality.quiz", make)


def _job(world):
    def make():
        from audit_app.quality import operations

        version = factories.make_version()
        visit = factories.make_visit(db.session.merge(world.client_a), db.session.merge(world.evaluator2), version)
        (job,), _skipped = operations.publish([visit], claim_deadline=date.today() + timedelta(days=3),
                                              by=db.session.merge(world.admin))
        db.session.commit()
        return job.id

    return {"job_id": world.once("quality.job", make)}


def _round(world):
    def make():
        from audit_app.quality import operations

        version = factories.make_version()
        rnd = operations.create_round(
            client=db.session.merge(world.client_a), name="Round", version=version, channel="phone", location=None,
            window_start=date.today(), window_end=date.today(), evaluators=[db.session.merge(world.evaluator),
                                                                             db.session.merge(world.evaluator2)],
            material_text="Hello", by=db.session.merge(world.admin))
        db.session.commit()
        return rnd.id

    return {"round_id": world.once("quality.round", make)}


RULES = {
    "quality.quizzes": (ADMIN_ONLY, no_args),
    "quality.quiz_edit": (ADMIN_ONLY, _checklist),
    "quality.quiz_question_remove": (ADMIN_ONLY, lambda w: {"question_id": _quiz(w)[1]}, {"admin": 302}),
    "quality.my_quizzes": (EVALUATOR_ONLY, no_args),
    "quality.take_quiz": (EVALUATOR_ONLY, lambda w: {"quiz_id": _quiz(w)[0]}),
    "quality.board": (EVALUATOR_ONLY, no_args),
    # an empty POST: a refusal shown on the board (303), never a 5xx
    "quality.take_job": (EVALUATOR_ONLY, _job),
    "quality.give_back": (EVALUATOR_ONLY, _job),
    "quality.admin_jobs": (ADMIN_ONLY, no_args),
    "quality.withdraw_job": (ADMIN_ONLY, _job),
    "quality.pool_settings": (ADMIN_ONLY, lambda w: {"client_id": w.ids["client_a"]}),
    "quality.rounds": (ADMIN_ONLY, no_args),
    "quality.round_new": (ADMIN_ONLY, no_args),
    "quality.round_report": (ADMIN_ONLY, _round),
    # the other evaluator is not in the round
    "quality.material": (ADMIN_EVALUATOR, _round, {"other_evaluator": "ok"}),
    "quality.recording": (ADMIN_EVALUATOR, _round, {"admin": 404, "evaluator": 404, "other_evaluator": 404}),
    "quality.evaluators": (ADMIN_ONLY, no_args),
    "quality.evaluator_detail": (ADMIN_ONLY, lambda w: {"user_id": w.ids["evaluator"]}),
}
