"""report rollups: totals of every location per channel and of every channel per location

Revision ID: a4d8e2f61c37
Revises: e5c1a7d93b42
Create Date: 2026-12-01 14:20:00

The rollup tables get two coarser levels of rows beside the fine ones, summed here from the fine
rows: every location's total per channel (location_key -1, grain "cd"/"cm") and every channel's total
per location (channel "*", grain "ld"/"lm"). ``grain`` becomes two characters long; the level in it
lets the (client, grain, day) index reach one level's rows exactly, so a client-wide dashboard reads a
few hundred rows instead of one per place, channel and month; a (client, grain, location, day) index
reaches a branch's or a region's rows.
"""
import sqlalchemy as sa
from alembic import op

revision = 'a4d8e2f61c37'
down_revision = 'e5c1a7d93b42'
branch_labels = None
depends_on = None

TABLES = {
    'rollup_visits': ((), ('visits', 'score_sum', 'critical')),
    'rollup_scores': (('kind', 'code'), ('n', 'total')),
    'rollup_questions': (('question_id',), ('included', 'fraction_sum', 'failed')),
}


def upgrade():
    for table, (extra, sums) in TABLES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('grain', existing_type=sa.String(length=1), type_=sa.String(length=2),
                                  existing_nullable=False)
            batch_op.create_index(f'ix_{table}_client_location', ['client_id', 'grain', 'location_key', 'day'],
                                  unique=False)  # a branch's or a region's rows
        key = ', '.join(('client_id', 'day', 'version_id') + extra)
        cols = ', '.join(f'sum({c})' for c in sums)
        names = ', '.join(sums)
        fine = "grain IN ('d', 'm')"
        op.execute(sa.text(
            f"INSERT INTO {table} ({key}, grain, location_key, channel, {names}) "
            f"SELECT {key}, 'c' || grain, -1, channel, {cols} FROM {table} WHERE {fine} "
            f"GROUP BY {key}, grain, channel"))
        op.execute(sa.text(
            f"INSERT INTO {table} ({key}, grain, location_key, channel, {names}) "
            f"SELECT {key}, 'l' || grain, location_key, '*', {cols} FROM {table} WHERE {fine} "
            f"GROUP BY {key}, grain, location_key"))


def downgrade():
    for table in TABLES:
        op.execute(sa.text(f"DELETE FROM {table} WHERE grain NOT IN ('d', 'm')"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_client_location')
            batch_op.alter_column('grain', existing_type=sa.String(length=2), type_=sa.String(length=1),
                                  existing_nullable=False)
