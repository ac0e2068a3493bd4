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


def test_builtin_dimension_scores_are_copied_onto_existing_visits(tmp_path):
    """Migration 7d2b9e4c1a30 fills the visits' built-in dimension columns from visit_dimension_scores."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from audit_app import create_app

    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with other.app_context():
        upgrade(revision="3c5e1f0a7b21")  # the schema before the columns, with a scored visit in it
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO visits (id, client_id, channel, checklist_version_id, evaluator_id, due_from, due_to, "
                "scenario, status, score_overall, score_critical_fail, created_at, updated_at) VALUES (7, 1, 'phone', "
                "1, 1, '2026-01-01', '2026-01-02', '', 'approved', 25.0, 1, '2026-01-01', '2026-01-01')"))
            conn.execute(text("INSERT INTO visit_dimension_scores (visit_id, dimension, score) VALUES "
                              "(7, 'reachability', 50.0), (7, 'privacy', 0.0), (7, 'accessibility', 80.0)"))
        upgrade()
        with db.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT score_reachability, score_effortlessness, score_empathy, score_transparency, score_privacy "
                "FROM visits WHERE id = 7")).one()
        db.engine.dispose()
    assert tuple(row) == (50.0, None, None, None, 0.0)
