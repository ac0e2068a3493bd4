"""improvement: targets, self-assessments (their own answers, never visits) and corrective actions

Revision ID: f3b8c2d41e07
Revises: d6a1f3c8e920
Create Date: 2026-12-01 12:10:00

Targets per client for the overall score or a dimension, optionally a channel, from a date.
Self-assessments keep the client's answers in ``self_answers`` and their scores on the row, so
they can never enter an outside-eye figure. Corrective actions belong to a visit's failed
question or to a location and question, with their history and comments.
"""
import sqlalchemy as sa
from alembic import op

revision = 'f3b8c2d41e07'
down_revision = 'd6a1f3c8e920'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('improvement_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('applies_from', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_improvement_targets_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_improvement_targets_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_targets')),
    sa.UniqueConstraint('client_id', 'dimension', 'channel', 'applies_from', name=op.f('uq_improvement_targets_client_id'))
    )
    with op.batch_alter_table('improvement_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_targets_client_id'), ['client_id'], unique=False)

    op.create_table('self_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('checklist_version_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('assessed_on', sa.Date(), nullable=True),
    sa.Column('score_overall', sa.Double(), nullable=True),
    sa.Column('score_data', sa.JSON(), nullable=True),
    sa.Column('dimension_scores', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checklist_version_id'], ['checklist_versions.id'], name=op.f('fk_self_assessments_checklist_version_id_checklist_versions')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_self_assessments_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_self_assessments_created_by_id_users')),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_self_assessments_location_id_locations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessments'))
    )
    with op.batch_alter_table('self_assessments', schema=None) as batch_op:
        batch_op.create_index('ix_self_assessments_client_channel', ['client_id', 'channel', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_self_assessments_client_id'), ['client_id'], unique=False)

    op.create_table('corrective_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('location_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_visit_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id'], name=op.f('fk_corrective_actions_checklist_id_checklists')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_corrective_actions_client_id_clients')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_corrective_actions_created_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_visit_id'], ['visits.id'], name=op.f('fk_corrective_actions_decided_by_visit_id_visits'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['location_id'], ['locations.id'], name=op.f('fk_corrective_actions_location_id_locations')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_corrective_actions_owner_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_corrective_actions_question_id_questions')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_corrective_actions_visit_id_visits'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_actions'))
    )
    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_actions_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_actions_location_id'), ['location_id'], unique=False)
        batch_op.create_index('ix_corrective_actions_match', ['client_id', 'checklist_id', 'question_key', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_actions_owner_id'), ['owner_id'], unique=False)

    op.create_table('self_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('na', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('fraction', sa.Double(), nullable=True),
    sa.Column('failed', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['self_assessments.id'], name=op.f('fk_self_answers_assessment_id_self_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_self_answers_question_id_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_answers')),
    sa.UniqueConstraint('assessment_id', 'question_id', name=op.f('uq_self_answers_assessment_id'))
    )
    with op.batch_alter_table('self_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_answers_assessment_id'), ['assessment_id'], unique=False)

    op.create_table('corrective_action_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('old_status', sa.String(length=16), nullable=True),
    sa.Column('new_status', sa.String(length=16), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['corrective_actions.id'], name=op.f('fk_corrective_action_events_action_id_corrective_actions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_corrective_action_events_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_corrective_action_events_visit_id_visits'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_action_events'))
    )
    with op.batch_alter_table('corrective_action_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_action_events_action_id'), ['action_id'], unique=False)



def downgrade():
    with op.batch_alter_table('corrective_action_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrective_action_events_action_id'))

    op.drop_table('corrective_action_events')
    with op.batch_alter_table('self_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_answers_assessment_id'))

    op.drop_table('self_answers')
    with op.batch_alter_table('corrective_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrective_actions_owner_id'))
        batch_op.drop_index('ix_corrective_actions_match')
        batch_op.drop_index(batch_op.f('ix_corrective_actions_location_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_actions_client_id'))

    op.drop_table('corrective_actions')
    with op.batch_alter_table('self_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_assessments_client_id'))
        batch_op.drop_index('ix_self_assessments_client_channel')

    op.drop_table('self_assessments')
    with op.batch_alter_table('improvement_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_targets_client_id'))

    op.drop_table('improvement_targets')
