"""sign-in handoffs: one-time codes exchanged for the HttpOnly session cookie

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:05:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_handoff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_handoff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_handoff_code_hash'), ['code_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_sign_in_handoff_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sign_in_handoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_handoff_user_id'))
        batch_op.drop_index(batch_op.f('ix_sign_in_handoff_code_hash'))
    op.drop_table('sign_in_handoff')
