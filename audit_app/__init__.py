"""Outside-eye audit platform: the application factory."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from .config import load_config
from .extensions import babel, bootstrap, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
    app.instance_path = app.config["INSTANCE_PATH"]

    from .core import i18n

    i18n.compile_catalogues()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(i18n.translation_directories())

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    _import_models()
    from .accounts.views import load_user

    login_manager.user_loader(load_user)

    _bound_url_ids(app)
    _register_blueprints(app)
    _register_hooks(app)

    from .checklists.kinds import TEMPLATE_HELPERS as kind_helpers
    from .core.labels import install_template_helpers

    install_template_helpers(app, kind_helpers)  # the labels of codes, kinds, units and answers

    from .core.errors import register_error_handlers

    register_error_handlers(app)

    from .cli import register_cli

    register_cli(app)
    return app


PACKAGES = ("accounts", "checklists", "visits", "evidence", "submissions", "improvement", "quality", "reports",
            "notifications")


def _import_models() -> None:
    """Register every table with the metadata (migrations and relationships need all)."""
    import importlib

    for package in PACKAGES:
        importlib.import_module(f"{__name__}.{package}.models")


def _migrations_dir():
    from .config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"


def _bound_url_ids(app: Flask) -> None:
    """``<int:...>`` in a URL matches only ids a database column can hold, so a huge id is a 404
    rather than a database error (PostgreSQL's integer is 32 bits)."""
    from werkzeug.routing import IntegerConverter

    class IdConverter(IntegerConverter):
        def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
            super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)

    app.url_map.converters["int"] = IdConverter


def _register_blueprints(app: Flask) -> None:
    from .accounts.token_views import bp as tokens_bp
    from .accounts.views import bp as accounts_bp
    from .checklists.views import bp as checklists_bp
    from .evidence.views import bp as evidence_bp
    from .improvement.views import bp as improvement_bp
    from .notifications.views import bp as notifications_bp
    from .quality.views import bp as quality_bp
    from .reports.views import bp as reports_bp
    from .submissions.views import bp as submissions_bp
    from .visits.views import bp as visits_bp

    for blueprint in (accounts_bp, tokens_bp, checklists_bp, visits_bp, evidence_bp, submissions_bp, improvement_bp,
                      quality_bp, reports_bp, notifications_bp):
        app.register_blueprint(blueprint)

    from .api import register as register_api

    register_api(app)  # the /api/v1 blueprint with its OpenAPI description (flask-smorest)


def _register_hooks(app: Flask) -> None:
    from .core import transaction
    from .core.access import enforce_access
    from .core.http import response_headers

    # the access rule, and the password change a temporary password asks for, in one place
    app.before_request(enforce_access)
    transaction.init_app(app)  # one commit per request, at the edge

    headers = response_headers(app.config)  # the Content-Security-Policy included, built once

    @app.after_request
    def security_headers(response):
        for name, value in headers:
            response.headers.setdefault(name, value)
        return response

    @app.context_processor
    def layout_context():
        from flask_babel import get_locale

        from .core.nav import nav_items, nav_main, nav_setup

        return {"current_locale": str(get_locale() or "fi"), "nav_items": nav_items, "nav_main": nav_main,
                "nav_setup": nav_setup, "role_label": role_label}

    def role_label(role: str):
        return {"admin": _l("Admin"), "evaluator": _l("Evaluator"), "client": _l("Client user")}.get(role, role)
