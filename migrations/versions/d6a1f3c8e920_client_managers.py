"""client managers: a client user may manage its organisation's improvement

Revision ID: d6a1f3c8e920
Revises: d7a4c2e9f013
Create Date: 2026-12-01 12:00:00

``users.manager``: set by an admin on a client user; managers set targets, run self-assessments
and manage corrective actions (improvement). Other client users read.
"""
import sqlalchemy as sa
from alembic import op

revision = 'd6a1f3c8e920'
down_revision = 'd7a4c2e9f013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('manager', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('manager')
