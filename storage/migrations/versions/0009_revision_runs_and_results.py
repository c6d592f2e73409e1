"""revision runs and per-trace revision results: does a critique help a model revise its solution?

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:10:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
SHOWS = "show IN ('verdict', 'first-error', 'full', 'none')"


def upgrade() -> None:
    op.create_table('revision_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('critiques', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('show', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviser', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviser_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('grader', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('cached', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('no_reference', sa.Integer(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('filters', JSON, nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(SHOWS, name='revision_run_show_valid'),
    sa.CheckConstraint("status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')", name='revision_run_status_valid'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('revision_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trace_id', sa.Integer(), nullable=False),
    sa.Column('critique_source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('show', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviser', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reviser_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('critique_version', sa.Integer(), nullable=True),
    sa.Column('original_answer', sa.Text(), nullable=True),
    sa.Column('revised_answer', sa.Text(), nullable=True),
    sa.Column('revised_text', sa.Text(), nullable=True),
    sa.Column('original_correct', sa.Boolean(), nullable=True),
    sa.Column('revised_correct', sa.Boolean(), nullable=True),
    sa.Column('grader', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('extra', JSON, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(SHOWS, name='revision_result_show_valid'),
    sa.CheckConstraint("status IN ('done', 'failed')", name='revision_result_status_valid'),
    sa.ForeignKeyConstraint(['run_id'], ['revision_run.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['trace_id'], ['trace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trace_id', 'critique_source', 'show', 'reviser', name='revision_result_once')
    )
    with op.batch_alter_table('revision_result', schema=None) as batch_op:
        batch_op.create_index('revision_result_by_request', ['request_hash'], unique=False)
        batch_op.create_index('revision_result_by_reviser', ['reviser', 'show'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('revision_result', schema=None) as batch_op:
        batch_op.drop_index('revision_result_by_reviser')
        batch_op.drop_index('revision_result_by_request')
    op.drop_table('revision_result')
    op.drop_table('revision_run')
