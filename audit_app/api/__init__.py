"""``/api/v1``: JSON over the same operations and queries as the pages, with no business rule of its own.

Parse (marshmallow schemas), authorise (``core/access.py`` and the scoped lookups, with a personal
API token or the browser's session), call operations and queries, serialise. flask-smorest builds
the OpenAPI 3.1 description from the schemas; Flask-Limiter limits each token's rate.
"""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api


class _Api(Api):
    def _register_error_handlers(self):
        """The app's own error pages stay; the API's problem documents are the blueprint's (``problems``)."""


def register(app: Flask) -> None:
    """Register the ``api`` blueprint (flask-smorest: with its OpenAPI description) and its token sign-in."""
    from . import auth, catalogue, improvement, problems, reports, results, views, visits, waves  # noqa: F401  (their routes join the blueprint)
    from .blueprint import blp
    from .limits import init_limiter

    app.config.setdefault("API_TITLE", "Outside-eye audit API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # served by docs.py under /api/v1, not by flask-smorest
    api = _Api(app, spec_kwargs={
        "info": {"description": "Visits and waves, results, clients, locations, channels, checklists, reports, "
                               "targets, self-assessments and corrective actions."},
    })
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                                   "description": "A personal API token (account page)."})
    api.spec.options["security"] = [{"bearer": []}]
    init_limiter(app)
    auth.init_app(app)
    api.register_blueprint(blp)
    app.extensions["audit_api"] = api
