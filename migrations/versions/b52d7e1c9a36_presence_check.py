"""presence check: optional coordinates of a location; the distance and accuracy at a visit's start

Revision ID: b52d7e1c9a36
Revises: a18c0e9f4b27
Create Date: 2026-12-02 10:00:00

A location may carry a latitude and longitude. A visit started there keeps only whether the phone
gave its position (given, not_given, unavailable), the distance from the location rounded to 10 m
and the stated accuracy: never coordinates.
"""
import sqlalchemy as sa
from alembic import op

revision = 'b52d7e1c9a36'
down_revision = 'a18c0e9f4b27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('lon', sa.Double(), nullable=True))

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_position', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('start_distance_m', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('start_accuracy_m', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_column('start_accuracy_m')
        batch_op.drop_column('start_distance_m')
        batch_op.drop_column('start_position')

    with op.batch_alter_table('locations', schema=None) as batch_op:
        batch_op.drop_column('lon')
        batch_op.drop_column('lat')
