"""report rollups: approved visits' sums per client, day or month, location, channel and version

Revision ID: d7a4c2e9f013
Revises: f17a0b1c2d3e
Create Date: 2026-12-03 10:00:00

Three tables (rollup_visits, rollup_scores, rollup_questions) keyed by client, grain ("d" day or
"m" month), day, location_key (0: no location), channel and checklist version. The dashboard and
period reports read them instead of the visits. Filled from the approved visits here, and kept by
the reports package in the transaction that changes them (``flask reports rebuild-rollups`` redoes it).
"""
import sqlalchemy as sa
from alembic import op

revision = 'd7a4c2e9f013'
down_revision = 'f17a0b1c2d3e'
branch_labels = None
depends_on = None

KEY = ['client_id', 'grain', 'day', 'location_key', 'channel', 'version_id']


def _key_columns():
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.Integer(), nullable=False),
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('location_key', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
    ]


def upgrade():
    op.create_table(
        'rollup_visits', *_key_columns(),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.Column('score_sum', sa.Double(), nullable=False),
        sa.Column('critical', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_visits')),
        sa.UniqueConstraint(*KEY, name='uq_rollup_visits_key'),
    )
    op.create_index('ix_rollup_visits_client_grain_day', 'rollup_visits', ['client_id', 'grain', 'day'])
    op.create_table(
        'rollup_scores', *_key_columns(),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('total', sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_scores')),
        sa.UniqueConstraint(*KEY, 'kind', 'code', name='uq_rollup_scores_key'),
    )
    op.create_index('ix_rollup_scores_client_grain_day', 'rollup_scores', ['client_id', 'grain', 'day'])
    op.create_table(
        'rollup_questions', *_key_columns(),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('included', sa.Integer(), nullable=False),
        sa.Column('fraction_sum', sa.Double(), nullable=False),
        sa.Column('failed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_questions')),
        sa.UniqueConstraint(*KEY, 'question_id', name='uq_rollup_questions_key'),
    )
    op.create_index('ix_rollup_questions_client_grain_day', 'rollup_questions', ['client_id', 'grain', 'day'])
    _fill()


def _fill():
    """The rollups of the visits approved before this migration (the same sums the app keeps)."""
    bind = op.get_bind()
    pg = bind.dialect.name == 'postgresql'
    counted = ("v.status = 'approved' AND v.calibration = {f} AND v.score_overall IS NOT NULL "
               "AND v.visited_on IS NOT NULL").format(f='false' if pg else '0')
    for grain in ('d', 'm'):
        if grain == 'd':
            day = 'v.visited_on'
        else:
            day = "CAST(date_trunc('month', v.visited_on) AS DATE)" if pg else "date(v.visited_on, 'start of month')"
        key = f"v.client_id, '{grain}', {day}, COALESCE(v.location_id, 0), v.channel, v.checklist_version_id"
        group = f"v.client_id, {day}, COALESCE(v.location_id, 0), v.channel, v.checklist_version_id"
        cols = 'client_id, grain, day, location_key, channel, version_id'
        bind.execute(sa.text(
            f"INSERT INTO rollup_visits ({cols}, visits, score_sum, critical) "
            f"SELECT {key}, count(*), sum(v.score_overall), count(CASE WHEN v.score_critical_fail THEN 1 END) "
            f"FROM visits v WHERE {counted} GROUP BY {group}"))
        bind.execute(sa.text(
            f"INSERT INTO rollup_scores ({cols}, kind, code, n, total) "
            f"SELECT {key}, 'dimension', d.dimension, count(*), sum(d.score) "
            f"FROM visits v JOIN visit_dimension_scores d ON d.visit_id = v.id "
            f"WHERE {counted} AND d.score IS NOT NULL GROUP BY {group}, d.dimension"))
        bind.execute(sa.text(
            f"INSERT INTO rollup_questions ({cols}, question_id, included, fraction_sum, failed) "
            f"SELECT {key}, a.question_id, count(a.fraction), COALESCE(sum(a.fraction), 0), "
            f"count(CASE WHEN a.failed THEN 1 END) "
            f"FROM visits v JOIN answers a ON a.visit_id = v.id WHERE {counted} GROUP BY {group}, a.question_id "
            f"HAVING count(a.fraction) > 0 OR count(CASE WHEN a.failed THEN 1 END) > 0"))
    _fill_sections(bind, counted)


def _fill_sections(bind, counted):
    """Section scores sit in the visits' JSON breakdown (score_data): summed in Python."""
    import json

    sums = {}
    rows = bind.execute(sa.text(f"SELECT v.client_id, v.visited_on, COALESCE(v.location_id, 0), v.channel, "
                                f"v.checklist_version_id, v.score_data FROM visits v WHERE {counted}"))
    for client_id, day, loc, channel, version_id, data in rows:
        if isinstance(day, str):
            from datetime import date
            day = date.fromisoformat(day[:10])
        if isinstance(data, str):
            data = json.loads(data)
        for s in (data or {}).get('sections', ()):
            if s.get('score') is None:
                continue
            for grain, bucket in (('d', day), ('m', day.replace(day=1))):
                acc = sums.setdefault((client_id, grain, bucket, loc, channel, version_id, s['key']), [0, 0.0])
                acc[0] += 1
                acc[1] += s['score']
    if sums:
        table = sa.table('rollup_scores', *(sa.column(c) for c in (
            'client_id', 'grain', 'day', 'location_key', 'channel', 'version_id', 'kind', 'code', 'n', 'total')))
        op.bulk_insert(table, [
            {'client_id': k[0], 'grain': k[1], 'day': k[2], 'location_key': k[3], 'channel': k[4],
             'version_id': k[5], 'kind': 'section', 'code': k[6], 'n': n, 'total': total}
            for k, (n, total) in sums.items()])


def downgrade():
    for table in ('rollup_questions', 'rollup_scores', 'rollup_visits'):
        op.drop_index(f'ix_{table}_client_grain_day', table_name=table)
        op.drop_table(table)
