"""reports: partial index of failed answers by visit, covering index of visits

Revision ID: 3c5e1f0a7b21
Revises: 9706c1d5f184
Create Date: 2026-11-25 13:00:00

The dashboard's "most failed questions" and the reports' failed items read failed answers
only; with this index PostgreSQL reads them from the index alone (an index-only scan of a
small fraction of the answers) instead of the whole answers table. On PostgreSQL the visits'
(client, status, date) index also carries the columns the report aggregates read, so they are an
index-only scan instead of a scan of the wide visits table.
"""
import sqlalchemy as sa
from alembic import op

revision = '3c5e1f0a7b21'
down_revision = '9706c1d5f184'
branch_labels = None
depends_on = None


COVERED = ['id', 'score_overall', 'location_id', 'channel', 'checklist_version_id', 'score_critical_fail']


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_client_status_visited', table_name='visits')
        op.create_index('ix_visits_client_status_visited', 'visits', ['client_id', 'status', 'visited_on'],
                        unique=False, postgresql_include=COVERED)
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index('ix_answers_failed_visit', ['visit_id', 'question_id'], unique=False,
                              postgresql_where=sa.text('failed'), sqlite_where=sa.text('failed'))


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_failed_visit')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_client_status_visited', table_name='visits')
        op.create_index('ix_visits_client_status_visited', 'visits', ['client_id', 'status', 'visited_on'],
                        unique=False)
