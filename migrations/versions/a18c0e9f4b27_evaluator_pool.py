"""evaluator pool: certification quizzes, the job board, calibration rounds, pool settings

Revision ID: a18c0e9f4b27
Revises: e19b7a3c5d20
Create Date: 2026-12-01 11:04:48

A visit on the job board has no evaluator until someone takes it (visits.evaluator_id becomes
nullable); a calibration round's visits carry visits.calibration (never released, never counted).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a18c0e9f4b27'
down_revision = 'e19b7a3c5d20'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pool_settings',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('lockout_days', sa.Integer(), nullable=False),
    sa.Column('max_open_jobs', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_pool_settings_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_pool_settings'))
    )
    op.create_table('quizzes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id'], name=op.f('fk_quizzes_checklist_id_checklists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes')),
    sa.UniqueConstraint('checklist_id', name=op.f('uq_quizzes_checklist_id'))
    )
    op.create_table('quiz_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_attempts_quiz_id_quizzes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiz_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts'))
    )
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempts_quiz_id'), ['quiz_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_attempts_user_id'), ['user_id'], unique=False)

    op.create_table('quiz_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('prompt', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_questions_quiz_id_quizzes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_questions'))
    )
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_questions_quiz_id'), ['quiz_id'], unique=False)

    op.create_table('calibration_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('checklist_version_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('material_kind', sa.String(length=8), nullable=False),
    sa.Column('material_text', sa.Text(), nullable=False),
    sa.Column('material_key', sa.String(length=255), nullable=True),
    sa.Column('material_type', sa.String(length=32), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checklist_version_id'], ['checklist_versions.id'], name=op.f('fk_calibration_rounds_checklist_version_id_checklist_versions')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_calibration_rounds_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_calibration_rounds_created_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_calibration_rounds_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calibration_rounds'))
    )
    with op.batch_alter_table('calibration_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_rounds_client_id'), ['client_id'], unique=False)

    op.create_table('calibration_visits',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['calibration_rounds.id'], name=op.f('fk_calibration_visits_round_id_calibration_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_calibration_visits_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'visit_id', name=op.f('pk_calibration_visits')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_calibration_visits_visit_id'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('claim_deadline', sa.Date(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_jobs_client_id_clients')),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_jobs_published_by_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_jobs_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('visit_id', name=op.f('uq_jobs_visit_id'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_client_id'), ['client_id'], unique=False)

    op.create_table('job_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.Column('given_back_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_claims_job_id_jobs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_job_claims_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_claims'))
    )
    with op.batch_alter_table('job_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_claims_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_claims_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calibration', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.alter_column('evaluator_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.alter_column('evaluator_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('calibration')

    with op.batch_alter_table('job_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_claims_user_id'))
        batch_op.drop_index(batch_op.f('ix_job_claims_job_id'))

    op.drop_table('job_claims')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_client_id'))

    op.drop_table('jobs')
    op.drop_table('calibration_visits')
    with op.batch_alter_table('calibration_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_rounds_client_id'))

    op.drop_table('calibration_rounds')
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_questions_quiz_id'))

    op.drop_table('quiz_questions')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_user_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_quiz_id'))

    op.drop_table('quiz_attempts')
    op.drop_table('quizzes')
    op.drop_table('pool_settings')
