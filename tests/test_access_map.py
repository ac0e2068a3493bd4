"""Walks the whole URL map: every endpoint declares an access rule, and the rule holds.

A new route must be added to the RULES table of its package in tests/routes_<package>.py, with
who may use it and how to build its URL; a route missing there fails the suite. For each route
the test signs in as anonymous, admin, evaluator, client and a client of another tenant and
checks the response.
"""

from __future__ import annotations

import pytest

from audit_app.core.access import access_rule
from tests.helpers import ALL_ROLES, RULES, expected_access
from tests.routes_accounts import SIGNS_OUT


def _normalise(rule):
    return set(rule) if isinstance(rule, (set, frozenset)) else rule


def test_every_endpoint_declares_the_expected_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    missing = sorted(endpoints - RULES.keys())
    assert not missing, f"routes without an entry in RULES (declare who may use them): {missing}"
    stale = sorted(RULES.keys() - endpoints)
    assert not stale, f"RULES names routes that no longer exist: {stale}"
    with app.test_request_context():
        for endpoint in sorted(endpoints):
            declared = access_rule(endpoint)
            assert declared is not None, f"{endpoint} declares no access rule"
            assert _normalise(declared) == _normalise(RULES[endpoint][0]), endpoint


def test_rules_have_the_right_shape():
    for endpoint, entry in RULES.items():
        assert 2 <= len(entry) <= 3, endpoint
        if len(entry) == 3:
            assert set(entry[2]) <= set(ALL_ROLES), endpoint


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_route_behaves_as_declared(app, world, login_as, role):
    browser = login_as(role)
    failures = []
    # signing out ends the session: those routes go last, each on a fresh sign-in
    for rule_obj in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint in SIGNS_OUT):
        endpoint = rule_obj.endpoint
        if endpoint in SIGNS_OUT:
            browser = login_as(role)
        declared, make_args, *rest = RULES[endpoint]
        overrides = rest[0] if rest else {}
        with app.app_context():
            kwargs = make_args(world)
        with app.test_request_context():
            from flask import url_for

            url = url_for(endpoint, **kwargs)
        if "GET" in rule_obj.methods:
            response = browser.get(url)
        else:
            response = browser.post(url, {})
        expected = overrides.get(role, expected_access(declared, role))
        location = response.headers.get("Location", "")
        got_login = response.status_code == 302 and "/login?next=" in location
        if isinstance(expected, int):
            if response.status_code != expected:
                failures.append(f"{endpoint} as {role}: expected {expected}, got {response.status_code}")
        elif expected == "login" and not got_login:
            failures.append(f"{endpoint} as {role}: expected a redirect to sign-in, got {response.status_code}")
        elif expected == "forbidden" and response.status_code != 403:
            failures.append(f"{endpoint} as {role}: expected 403, got {response.status_code}")
        elif expected == "ok" and (response.status_code in (401, 403, 404) or got_login or response.status_code >= 500):
            failures.append(f"{endpoint} as {role}: expected access, got {response.status_code} {location}")
    assert not failures, "\n".join(failures)


def test_unguarded_route_is_refused(app):
    """An endpoint that declares no rule fails closed (403), even for an admin."""
    from audit_app import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})

    @other.route("/unguarded")
    def unguarded():
        return "secret"

    response = other.test_client().get("/unguarded")
    assert response.status_code == 403
    with other.test_request_context():
        assert access_rule("unguarded") is None
    endpoints = {r.endpoint for r in other.url_map.iter_rules()}
    assert endpoints - RULES.keys() == {"unguarded"}  # the walk above would name it
