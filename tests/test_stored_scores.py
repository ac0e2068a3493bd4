"""Scores stored with a visit equal the scoring engine's result for its answers."""

from __future__ import annotations

from sqlalchemy import select

from audit_app.extensions import db
from audit_app.scoring import display
from audit_app.visits.models import VisitDimensionScore

from . import factories


def test_worked_example_is_stored(app, world):
    with app.app_context():
        client = db.session.merge(world.client_a)
        evaluator = db.session.merge(world.evaluator)
        visit = factories.make_scored_visit(client, evaluator)
        db.session.commit()
        assert display(visit.score_overall) == "33.3"
        assert visit.score_critical_fail is True
        dims = dict(db.session.execute(
            select(VisitDimensionScore.dimension, VisitDimensionScore.score).where(
                VisitDimensionScore.visit_id == visit.id)).all())
        assert dims == {"reachability": 50.0, "privacy": 0.0}
        # the built-in dimensions are on the visit row too (the dashboard reads them with the visit)
        assert (visit.score_reachability, visit.score_privacy) == (50.0, 0.0)
        assert visit.score_effortlessness is None and visit.score_empathy is None and visit.score_transparency is None
        assert [s["score"] for s in visit.score_data["sections"]] == [50.0, 0.0]


def test_starter_checklist_builds_and_scores(app, world):
    with app.app_context():
        version = factories.make_version(factories.starter_doc())
        assert 30 <= len(version.questions()) <= 40
        spec = version.to_spec()
        assert {s.dimension for s in spec.sections} == {
            "reachability", "effortlessness", "empathy", "transparency", "privacy"}
