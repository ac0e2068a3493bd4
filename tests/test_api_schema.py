"""Schemathesis against /api/v1/openapi.json with an admin's and a client's token: no 5xx, and every
response matches the schema (status code, content type, body)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import ignored_auth

from audit_app.extensions import db
from tests.factories import make_scored_visit, make_version

pytestmark = pytest.mark.filterwarnings("ignore")

#: a schema-valid request may still be refused by the operations' rules, which a schema cannot state
#: (a wave's period ending before it starts, a location of another client, a visit not yet scored):
#: 400 with the pages' message, as a problem document. 5xx never passes (asserted below).
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]}}})


def _loop_objects(visit, manager):
    from sqlalchemy import select

    from audit_app.checklists.models import Question
    from audit_app.improvement import operations as improvement
    from audit_app.reports import operations as reports

    improvement.set_target(visit.client_id, manager, dimension="overall", channel=None, value=80,
                           applies_from=date.today())
    improvement.start_self_assessment(visit.client_id, manager, version=visit.checklist_version, channel="phone",
                                      location=None)
    question = db.session.scalar(select(Question).where(Question.version_id == visit.checklist_version_id,
                                                        Question.key == "q4"))
    improvement.create_action(visit.client_id, manager, question=question, what="Ask for ID", owner=manager,
                              due_on=date.today(), visit=visit)
    reports.render_generated(reports.create_generated(visit.client_id, "visit", str(visit.id), None, None, "fi",
                                                      manager))


@pytest.fixture
def tokens_by_role(app, world):
    from audit_app.accounts import tokens
    from audit_app.accounts.models import User

    out = {}
    with app.app_context():
        visit = make_scored_visit(world.client_a, world.evaluator, make_version())
        # the client's user manages its loop, and there is one of each object (ids from 1) to read and change
        manager = db.session.get(User, world.ids["client_user"])
        manager.manager = True
        _loop_objects(visit, manager)
        for role, key in (("admin", "admin"), ("client", "client_user")):
            _row, secret = tokens.create_token(db.session.get(User, world.ids[key]), name="ci", scope="read write",
                                               expires_on=date.today() + timedelta(days=2))
            out[role] = secret
        db.session.commit()
    return out


@pytest.mark.parametrize("role", ["admin", "client"])
def test_api_matches_its_description(app, tokens_by_role, role):
    old = app.config["API_RATE_LIMIT"]
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    headers = {"Authorization": f"Bearer {tokens_by_role[role]}"}
    failures = []
    try:
        for result in schema.get_all_operations():
            operation = result.ok()

            @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy())
            def check(case):
                response = case.call(headers=headers)
                assert response.status_code < 500, (case.method, case.formatted_path, response.status_code)
                # the token is sent by the test itself (ignored_auth would take it for generated auth);
                # refusals without or with a bad token are tested in test_api.py
                case.validate_response(response, headers=headers, excluded_checks=[ignored_auth])

            try:
                check()
            except Exception as exc:  # noqa: BLE001  (collected: every operation is tried)
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:800]}")
    finally:
        app.config["API_RATE_LIMIT"] = old
    assert not failures, "\n\n".join(failures)
