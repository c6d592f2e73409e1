"""steps of parts: a trace's structure (parts, context, images), the images stored with a project, and the
steps a trace had before an annotator merged or split them

Text traces keep ``structure`` NULL: their steps are one text part each, read from ``steps`` as before,
so every existing label, revision and export stays as it was.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 21:40:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('trace', schema=None) as batch_op:
        batch_op.add_column(sa.Column('structure', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))
        batch_op.add_column(sa.Column('steps_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.create_check_constraint('trace_steps_version_positive', 'steps_version >= 1')
    op.create_table('trace_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trace_id', sa.Integer(), nullable=False),
    sa.Column('steps_version', sa.Integer(), nullable=False),
    sa.Column('steps', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('structure', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('change', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['trace_id'], ['trace.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('trace_id', 'steps_version', name='trace_revision_once_per_version')
    )
    op.create_table('stored_image',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size >= 0', name='image_size_not_negative'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'name', name='image_once_per_project')
    )


def downgrade() -> None:
    op.drop_table('stored_image')
    op.drop_table('trace_revision')
    with op.batch_alter_table('trace', schema=None) as batch_op:
        batch_op.drop_constraint('trace_steps_version_positive', type_='check')
        batch_op.drop_column('steps_version')
        batch_op.drop_column('structure')
