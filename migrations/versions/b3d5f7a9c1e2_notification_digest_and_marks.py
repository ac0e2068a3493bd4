"""notifications: e-mail preferences (daily digest) and marks of periodic notices

Revision ID: b3d5f7a9c1e2
Revises: a9c4e7b21d58
Create Date: 2026-12-01 14:00:00

``email_preferences`` keeps a user's choice of "results released" one by one or as a daily
digest; ``notification_marks`` records each periodic notice (an action overdue, a visit due
tomorrow) written to the outbox, so that the periodic check writes it once.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b3d5f7a9c1e2'
down_revision = 'a9c4e7b21d58'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'email_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('released_digest', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_preferences_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_email_preferences')),
    )
    op.create_table(
        'notification_marks',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_notification_marks')),
    )
    with op.batch_alter_table('notification_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_marks_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('notification_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_marks_created_at'))
    op.drop_table('notification_marks')
    op.drop_table('email_preferences')
