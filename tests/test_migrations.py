"""The migrations build the schema, and the models do not drift from them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from audit_app.extensions import db


def diff(app):
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, db.metadata)


def test_models_match_migrations(app):
    assert diff(app) == [], "models and migrations drift: run `flask --app wsgi db migrate`"


def test_drift_is_detected(app):
    """Adding a column to a model without a migration is caught."""
    from sqlalchemy import Column, Integer

    table = db.metadata.tables["clients"]
    column = Column("not_migrated", Integer)
    table.append_column(column)
    try:
        assert any("not_migrated" in repr(d) for d in diff(app))
    finally:
        table._columns.remove(column)
    assert diff(app) == []
