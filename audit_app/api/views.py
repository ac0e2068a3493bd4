"""The OpenAPI 3.1 description, and a reference page made from it here (nothing from a CDN)."""

from __future__ import annotations

from flask import Blueprint as FlaskBlueprint
from flask import current_app, jsonify, render_template

from ..core.access import public
from .blueprint import blp

METHODS = ("get", "post", "put", "patch", "delete")


PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                   "detail": {"type": "string"},
                   "errors": {"type": "object", "additionalProperties": True}},
    "required": ["type", "title", "status", "detail"],
}


def spec_dict() -> dict:
    """The description, every operation's refusals documented as problem documents (RFC 9457)."""
    spec = current_app.extensions["audit_api"].spec.to_dict()
    spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"description": "A problem (RFC 9457): 400, 401, 403, 404, 409, 422, 429",
               "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    for item in spec.get("paths", {}).values():
        for method in METHODS:
            if method in item:
                item[method].setdefault("responses", {})["default"] = problem
    return spec


def openapi():
    return jsonify(spec_dict())


def reference():
    spec = spec_dict()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                                   "description": op.get("description", ""), "tag": (op.get("tags") or [""])[0],
                                   "parameters": [p.get("name") for p in op.get("parameters", [])],
                                   "responses": sorted(op.get("responses", {}))})
    return render_template("api/reference.html", spec=spec, operations=operations)


# served beside the API but not part of its description
FlaskBlueprint.add_url_rule(blp, "/openapi.json", "openapi", public(openapi), methods=["GET"])
FlaskBlueprint.add_url_rule(blp, "/", "reference", public(reference), methods=["GET"])
