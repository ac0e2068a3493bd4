"""corrective action photos: evidence of a fix, cleaned by the evidence pipeline and kept in Storage

Revision ID: c8e2d5a7f914
Revises: f3b8c2d41e07
Create Date: 2026-12-01 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c8e2d5a7f914'
down_revision = 'f3b8c2d41e07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('corrective_action_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('caption', sa.String(length=500), nullable=False),
    sa.Column('storage_key', sa.String(length=255), nullable=False),
    sa.Column('report_key', sa.String(length=255), nullable=False),
    sa.Column('thumb_key', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('captured_at', sa.DateTime(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_actions.id'], name=op.f('fk_corrective_action_photos_action_id_corrective_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_corrective_action_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_action_photos'))
    )
    with op.batch_alter_table('corrective_action_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_action_photos_action_id'), ['action_id'], unique=False)


def downgrade():
    with op.batch_alter_table('corrective_action_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrective_action_photos_action_id'))

    op.drop_table('corrective_action_photos')
