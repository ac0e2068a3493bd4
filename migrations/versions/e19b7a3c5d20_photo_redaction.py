"""photo redaction: regions, redacted versions and their state; the per-client setting

Revision ID: e19b7a3c5d20
Revises: c4f19a2e7d55
Create Date: 2026-12-01 13:00:00

Faces and licence plates are blurred before anyone outside the agency sees a photo. A photo keeps
its detected and drawn regions, the keys of its redacted report-size and thumbnail versions and
the state of its redaction (pending, done, failed). Photos stored before this revision start as
pending: ``flask evidence redact`` queues them. ``clients.redact_photos`` turns blurring on per
client (on by default).
"""
import sqlalchemy as sa
from alembic import op

revision = 'e19b7a3c5d20'
down_revision = 'c4f19a2e7d55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redact_photos', sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redaction_state', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('redaction_rev', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('redaction_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('redaction_error', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('redaction_queued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('regions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('redacted_report_key', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('redacted_thumb_key', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_photos_redaction_state'), ['redaction_state'], unique=False)


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_redaction_state'))
        for column in ('redacted_thumb_key', 'redacted_report_key', 'regions', 'redacted_at', 'redaction_queued_at',
                       'redaction_error', 'redaction_attempts', 'redaction_rev', 'redaction_state'):
            batch_op.drop_column(column)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('redact_photos')
