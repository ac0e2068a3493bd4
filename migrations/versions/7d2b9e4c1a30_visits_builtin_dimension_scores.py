"""visits: the five built-in dimension scores beside the overall score

Revision ID: 7d2b9e4c1a30
Revises: 3c5e1f0a7b21
Create Date: 2026-11-25 17:00:00

The dashboard's dimension means joined every visit of the period with its rows in
visit_dimension_scores (five per visit): for a large client's year, a scan of all those rows.
With the built-in dimensions' scores on the visit row (and, on PostgreSQL, in the covering index
of the report aggregates) they come from the same index-only scan as the dashboard's other
figures. visit_dimension_scores keeps every dimension, custom ones too. Existing scores are
copied over.
"""
import sqlalchemy as sa
from alembic import op

revision = '7d2b9e4c1a30'
down_revision = '3c5e1f0a7b21'
branch_labels = None
depends_on = None

DIMENSIONS = ['reachability', 'effortlessness', 'empathy', 'transparency', 'privacy']
COVERED = ['id', 'score_overall', 'location_id', 'channel', 'checklist_version_id', 'score_critical_fail']


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        for dimension in DIMENSIONS:
            batch_op.add_column(sa.Column(f'score_{dimension}', sa.Double(), nullable=True))
    for dimension in DIMENSIONS:
        op.execute(sa.text(
            f"UPDATE visits SET score_{dimension} = (SELECT d.score FROM visit_dimension_scores d "
            f"WHERE d.visit_id = visits.id AND d.dimension = '{dimension}')"
        ))
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_client_status_visited', table_name='visits')
        op.create_index('ix_visits_client_status_visited', 'visits', ['client_id', 'status', 'visited_on'],
                        unique=False, postgresql_include=COVERED + [f'score_{d}' for d in DIMENSIONS])


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_client_status_visited', table_name='visits')
        op.create_index('ix_visits_client_status_visited', 'visits', ['client_id', 'status', 'visited_on'],
                        unique=False, postgresql_include=COVERED)
    with op.batch_alter_table('visits', schema=None) as batch_op:
        for dimension in DIMENSIONS:
            batch_op.drop_column(f'score_{dimension}')
