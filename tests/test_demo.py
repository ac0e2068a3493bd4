"""The demo data: loaded twice (idempotent), with realistic visits whose stored scores are the engine's."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from audit_app.accounts.models import Client, User
from audit_app.extensions import db
from audit_app.scoring import score_visit
from audit_app.submissions.models import Answer, AuditEvent
from audit_app.submissions.operations import scoring_answers
from audit_app.visits.models import ClientChannel, Location, Visit, Wave


def snapshot() -> dict:
    def n(model):
        return db.session.scalar(select(func.count()).select_from(model))

    rows = db.session.execute(
        select(Client.name, Visit.status, func.count()).select_from(Visit)
        .join(Client, Client.id == Visit.client_id).group_by(Client.name, Visit.status)).all()
    by_status = {f"{name}:{status}": k for name, status, k in rows}
    return {"locations": n(Location), "channels": n(ClientChannel), "waves": n(Wave), "answers": n(Answer),
            "events": n(AuditEvent), "users": n(User), "clients": n(Client), **by_status}


def test_demo_loads_twice_with_scored_history(app):
    from audit_app.demo import load_demo

    today = date.today()
    with app.app_context():
        load_demo()
        db.session.commit()
        first = snapshot()
        ctx = load_demo()
        db.session.commit()
        assert snapshot() == first  # idempotent
        assert ctx["demo_visit_plan"] == []

        for client in db.session.scalars(select(Client)):
            assert db.session.scalar(select(func.count()).select_from(Location)
                                     .where(Location.client_id == client.id)) >= 5
            channels = set(db.session.scalars(select(ClientChannel.channel).where(ClientChannel.client_id == client.id)))
            assert channels == {"in_person", "phone", "chat", "email", "social", "web"}
            approved = db.session.scalars(select(Visit).where(Visit.client_id == client.id,
                                                              Visit.status == "approved")).all()
            assert 30 <= len(approved) <= 60
            assert first[f"{client.name}:submitted"] >= 1  # waiting for QA
            months = {v.visited_on.strftime("%Y-%m") for v in approved}
            assert len(months) >= 5  # spread over the last six months
            for visit in approved:
                assert today - timedelta(days=185) <= visit.visited_on <= today
                assert visit.approved_at and visit.submitted_at and visit.started_at <= visit.submitted_at
                expected = score_visit(visit.checklist_version.to_spec(), scoring_answers(visit), visit.channel)
                assert visit.score_overall is not None and visit.score_overall == expected.overall
                assert visit.score_critical_fail == expected.critical_fail
                assert {d.dimension: d.score for d in visit.dimension_scores} == expected.dimensions
                actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.visit_id == visit.id)
                                                  .order_by(AuditEvent.at)))
                assert actions == ["status", "status", "approved"]

        # plausible answers: some failures, some critical failures, comments
        assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.failed.is_(True))) > 50
        assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.score_critical_fail.is_(True)))
        assert db.session.scalar(select(func.count()).select_from(Answer).where(Answer.comment != "")) > 50
        assert db.session.scalar(select(func.count()).select_from(Visit).where(Visit.status == "returned"))

        # both evaluators have work to do now, with a scenario, due soon
        for evaluator in ctx["evaluators"]:
            open_visits = db.session.scalars(select(Visit).where(
                Visit.evaluator_id == evaluator.id, Visit.status.in_(("assigned", "in_progress")))).all()
            assert {v.status for v in open_visits} == {"assigned", "in_progress"}
            assert all(v.scenario and today <= v.due_to <= today + timedelta(days=14) for v in open_visits)
