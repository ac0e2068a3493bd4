"""Helpers shared by test modules (test modules import from here, from tests.factories and from
tests.conftest, never from one another or from the route tables)."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from audit_app.core.access import AUTHENTICATED, PUBLIC

# --- the access map ---------------------------------------------------------------------------

ANON, ADMIN, EVAL, OTHER_EVAL, CLIENT, OTHER = (
    "anonymous", "admin", "evaluator", "other_evaluator", "client", "other_client"
)
ALL_ROLES = (ANON, ADMIN, EVAL, OTHER_EVAL, CLIENT, OTHER)


def route_rules() -> dict[str, tuple]:
    """endpoint -> (expected rule, URL arguments built from the world[, {role: expected status}]).

    Each package keeps its table in tests/routes_<package>.py as RULES; they are merged here.
    Objects named in URLs belong to client A and to the evaluator "evaluator"; the optional
    third item says what other roles get, e.g. {OTHER: 404, OTHER_EVAL: 404}.
    """
    rules: dict[str, tuple] = {}
    for path in sorted(Path(__file__).parent.glob("routes_*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        overlap = rules.keys() & module.RULES.keys()
        assert not overlap, f"{path.name} redeclares {overlap}"
        rules.update(module.RULES)
    return rules


RULES = route_rules()


def expected_access(rule, role: str) -> str:
    """What ``role`` gets from a route declaring ``rule``: "ok", "login" or "forbidden"."""
    if rule == PUBLIC:
        return "ok"
    if role == ANON:
        return "login"
    if rule == AUTHENTICATED:
        return "ok"
    role_name = {ADMIN: "admin", EVAL: "evaluator", OTHER_EVAL: "evaluator", CLIENT: "client", OTHER: "client"}[role]
    return "ok" if role_name in rule else "forbidden"


# --- waiting ----------------------------------------------------------------------------------


def wait_for(predicate, timeout=10.0):
    """Poll ``predicate`` until it returns something true (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")
