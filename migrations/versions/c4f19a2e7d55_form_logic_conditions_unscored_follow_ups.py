"""checklists: form logic (show-if conditions, unscored questions, follow-ups on failure)

Revision ID: c4f19a2e7d55
Revises: 0ffcce67fad0
Create Date: 2026-12-02 10:00:00

A section or a question may carry one condition on an earlier question (JSON: {"question": key,
"any_of": [...]} or "at_most"/"at_least": n); any question may be unscored; a scored question may
demand a comment, a photo or both when its answer fails. The kinds multi, date and time keep their
settings in questions.config like the other kinds. Existing rows: no condition, scored, no follow-up.
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4f19a2e7d55'
down_revision = '0ffcce67fad0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.JSON(), nullable=True))
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('unscored', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('follow_up', sa.String(length=16), server_default='none', nullable=False))


def downgrade():
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_column('follow_up')
        batch_op.drop_column('unscored')
        batch_op.drop_column('condition')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_column('condition')
