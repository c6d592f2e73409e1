"""sign-in attempts and critic run heartbeats

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 00:40:37.365952
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STATUS_BEFORE = "status IN ('running', 'done', 'cancelled', 'failed')"
# A run left "running" by a process that died is marked interrupted, so it can be told from a live one.
STATUS_AFTER = "status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')"


def _status_check(allowed: str) -> None:
    # Autogenerate does not see CHECK changes; SQLite rebuilds the table to change one.
    with op.batch_alter_table('critic_run', schema=None) as batch_op:
        batch_op.drop_constraint('critic_run_status_valid', type_='check')
        batch_op.create_check_constraint('critic_run_status_valid', allowed)


def upgrade() -> None:
    op.create_table('sign_in_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index('sign_in_attempt_by_name', ['username', 'attempted_at'], unique=False)

    with op.batch_alter_table('critic_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    _status_check(STATUS_AFTER)


def downgrade() -> None:
    op.execute("UPDATE critic_run SET status = 'failed' WHERE status = 'interrupted'")
    _status_check(STATUS_BEFORE)
    with op.batch_alter_table('critic_run', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')

    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_index('sign_in_attempt_by_name')

    op.drop_table('sign_in_attempt')
