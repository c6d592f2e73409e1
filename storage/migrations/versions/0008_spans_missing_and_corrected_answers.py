"""finer than a step: a judgment's spans of wrong text, its missing entries and the corrected answer

Existing judgments get no spans and no missing entries; their content is otherwise as it was.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 22:05:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('judgment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spans', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('missing', JSON, nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('corrected_answer', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('judgment', schema=None) as batch_op:
        batch_op.drop_column('corrected_answer')
        batch_op.drop_column('missing')
        batch_op.drop_column('spans')
