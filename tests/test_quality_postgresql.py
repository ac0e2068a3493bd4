"""The job board's take on PostgreSQL: many evaluators tap *Take this job* at once, exactly one gets it.

Runs on the suite's app when it is on PostgreSQL, else on a database of its own (``test_quality_pg``);
skipped locally when PostgreSQL is not reachable, a failure in CI.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from tests import factories
from tests.conftest import PASSWORD, make_test_app, own_postgresql_database, sqlalchemy_url

THREADS = 12


@pytest.fixture(scope="module")
def app(app):
    from audit_app.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            return app
    return make_test_app(sqlalchemy_url(own_postgresql_database("test_quality_pg")))


def test_many_evaluators_take_one_job_exactly_one_wins(app):
    from audit_app.accounts import operations as accounts
    from audit_app.core.errors import NotAllowed
    from audit_app.extensions import db
    from audit_app.quality import operations
    from audit_app.quality.models import Job, JobClaim
    from audit_app.visits.models import Visit

    with app.app_context():
        client = accounts.create_client("Claim Client")
        admin = accounts.create_user(email="claim-admin@t.example", name="Admin", role="admin", password=PASSWORD)
        evaluators = [accounts.create_user(email=f"claim{i}@t.example", name=f"Evaluator {i}", role="evaluator",
                                           password=PASSWORD) for i in range(THREADS)]
        version = factories.make_version()
        visit = factories.make_visit(client, evaluators[0], version)
        (job,), _n = operations.publish([visit], claim_deadline=date.today() + timedelta(days=1), by=admin)
        db.session.commit()
        job_id, visit_id, user_ids = job.id, visit.id, [u.id for u in evaluators]

    barrier = threading.Barrier(THREADS)
    outcomes: list = [None] * THREADS

    def claim(i):
        with app.app_context():
            from audit_app.accounts.models import User

            user = db.session.get(User, user_ids[i])
            job = db.session.get(Job, job_id)
            _ = job.visit.status  # loaded before the race: every thread sees the job open
            barrier.wait()
            try:
                operations.take(job, user)
                db.session.commit()
                outcomes[i] = "won"
            except NotAllowed as exc:
                db.session.rollback()
                outcomes[i] = exc.message
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("won") == 1, outcomes
    losers = [o for o in outcomes if o != "won"]
    assert len(losers) == THREADS - 1
    assert all(o in ("Someone else took this job a moment ago.", "Joku muu otti tämän tehtävän juuri.")
               for o in losers), losers
    with app.app_context():
        winner = user_ids[outcomes.index("won")]
        assert db.session.get(Visit, visit_id).evaluator_id == winner
        claims = db.session.scalars(db.select(JobClaim).where(JobClaim.job_id == job_id)).all()
        assert [c.user_id for c in claims] == [winner]
