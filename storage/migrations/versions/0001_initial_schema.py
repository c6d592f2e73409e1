"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 22:55:03.507060
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('guidelines', sa.Text(), nullable=False),
    sa.Column('taxonomy', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('judgments_per_trace', sa.Integer(), nullable=False),
    sa.Column('annotators_see_others', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('judgments_per_trace >= 1', name='project_judgments_per_trace_positive'),
    sa.CheckConstraint('length(name) > 0', name='project_name_not_empty'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_name'), ['name'], unique=True)

    op.create_table('trace',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('content_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('source_file', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('steps', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('n_steps', sa.Integer(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('reference_answer', sa.Text(), nullable=True),
    sa.Column('reference_solution', sa.Text(), nullable=True),
    sa.Column('generator', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('meta', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('n_steps >= 1', name='trace_has_steps'),
    sa.CheckConstraint('position >= 0', name='trace_position_not_negative'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'content_key', name='trace_once_per_project')
    )
    op.create_table('judgment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trace_id', sa.Integer(), nullable=False),
    sa.Column('source_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_error', sa.Integer(), nullable=True),
    sa.Column('steps', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('critique', sa.Text(), nullable=True),
    sa.Column('solution_correct', sa.Boolean(), nullable=True),
    sa.Column('finish_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('time_spent_s', sa.Float(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(source_kind IN ('reference', 'consensus') AND source_name = '') OR (source_kind IN ('human', 'model') AND source_name <> '')", name='judgment_source_valid'),
    sa.CheckConstraint("finish_reason IS NULL OR finish_reason IN ('found_error', 'solution', 'bad_problem', 'give_up')", name='judgment_finish_reason_valid'),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name='judgment_status_valid'),
    sa.CheckConstraint('first_error IS NULL OR first_error >= -1', name='judgment_first_error_valid'),
    sa.CheckConstraint('time_spent_s IS NULL OR time_spent_s >= 0', name='judgment_time_not_negative'),
    sa.CheckConstraint('version >= 1', name='judgment_version_positive'),
    sa.ForeignKeyConstraint(['trace_id'], ['trace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trace_id', 'source_kind', 'source_name', name='judgment_once_per_source')
    )
    op.create_table('judgment_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('judgment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['judgment_id'], ['judgment.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('judgment_id', 'version', name='revision_once_per_version')
    )
    with op.batch_alter_table('judgment_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_judgment_revision_judgment_id'), ['judgment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('judgment_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_judgment_revision_judgment_id'))

    op.drop_table('judgment_revision')
    op.drop_table('judgment')
    op.drop_table('trace')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_name'))

    op.drop_table('project')
