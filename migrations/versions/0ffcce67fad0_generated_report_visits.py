"""generated reports: the visits that went in, and whether all were approved when made

Revision ID: 0ffcce67fad0
Revises: 5b8e2c71d0a4
Create Date: 2026-12-01 12:00:00

A client's users see a generated report only if everything in it was approved when it was made
(``generated_reports.released``) and still is (no visit in ``generated_report_visits`` has left
``approved``). Existing reports are filled in as well as can be told afterwards: a visit report
is released when its visit was approved before the report was made and still is; a period
report (which only ever read approved visits) records the scored visits of its scope that were
approved before it was made, from the start of its trend or previous period to its end.
"""
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0ffcce67fad0'
down_revision = '5b8e2c71d0a4'
branch_labels = None
depends_on = None

TREND_MONTHS = 12

reports = sa.table(
    'generated_reports', sa.column('id', sa.Integer()), sa.column('client_id', sa.Integer()),
    sa.column('scope', sa.String()), sa.column('scope_ref', sa.String()), sa.column('period_start', sa.Date()),
    sa.column('period_end', sa.Date()), sa.column('created_at', sa.DateTime()), sa.column('released', sa.Boolean()),
)
visits = sa.table(
    'visits', sa.column('id', sa.Integer()), sa.column('client_id', sa.Integer()),
    sa.column('location_id', sa.Integer()), sa.column('channel', sa.String()), sa.column('status', sa.String()),
    sa.column('visited_on', sa.Date()), sa.column('approved_at', sa.DateTime()),
    sa.column('score_overall', sa.Float()),
)
report_visits = sa.table('generated_report_visits', sa.column('report_id', sa.Integer()),
                         sa.column('visit_id', sa.Integer()))


def upgrade():
    with op.batch_alter_table('generated_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'generated_report_visits',
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['generated_reports.id'],
                                name=op.f('fk_generated_report_visits_report_id_generated_reports'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_generated_report_visits_visit_id_visits')),
        sa.PrimaryKeyConstraint('report_id', 'visit_id', name=op.f('pk_generated_report_visits')),
    )
    _fill_existing_reports()


def _trend_start(end):
    first = date(end.year, end.month, 1)
    for _ in range(TREND_MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _fill_existing_reports():
    conn = op.get_bind()
    for row in conn.execute(sa.select(reports)).all():
        approved_then = [visits.c.approved_at.is_not(None), visits.c.approved_at <= row.created_at]
        if row.scope == 'visit':
            if not (row.scope_ref or '').isdigit():
                continue
            conds = [visits.c.id == int(row.scope_ref), visits.c.client_id == row.client_id]
        else:
            if row.period_start is None or row.period_end is None:
                continue
            start, end = _as_date(row.period_start), _as_date(row.period_end)
            earliest = min(start - timedelta(days=(end - start).days + 1), _trend_start(end))
            conds = [visits.c.client_id == row.client_id, visits.c.score_overall.is_not(None),
                     visits.c.visited_on >= earliest, visits.c.visited_on <= end, *approved_then]
            if row.scope == 'location' and (row.scope_ref or '').isdigit():
                conds.append(visits.c.location_id == int(row.scope_ref))
            elif row.scope == 'channel':
                conds.append(visits.c.channel == row.scope_ref)
        conn.execute(report_visits.insert().from_select(
            ['report_id', 'visit_id'], sa.select(sa.literal(row.id, sa.Integer()), visits.c.id).where(*conds)))
        if row.scope == 'visit':
            released = conn.execute(sa.select(visits.c.id).where(*conds, *approved_then,
                                                                  visits.c.status == 'approved')).first() is not None
        else:
            released = True
        conn.execute(reports.update().where(reports.c.id == row.id).values(released=released))


def _as_date(value):
    return date.fromisoformat(value) if isinstance(value, str) else value


def downgrade():
    op.drop_table('generated_report_visits')
    with op.batch_alter_table('generated_reports', schema=None) as batch_op:
        batch_op.drop_column('released')
