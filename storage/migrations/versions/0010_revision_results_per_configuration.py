"""revision results kept per configuration (reviser settings and grader), and ungraded results

A result was one per trace, critique source, show and reviser name: a run with the same name but other settings,
or another grader, overwrote the results it reached and left the others, so one reviser's figures mixed
configurations. Now the reviser's configuration hash and the grader are part of what makes a result one. A
result whose reply came but whose grade could not be made (an LLM grader failed, a run cancelled while grading)
is 'ungraded': kept out of the figures and graded again by the next run; runs count them.

Existing results keep their rows: they were already one per (trace, source, show, reviser), so they are one per
the wider key too.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 04:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ONCE = ['trace_id', 'critique_source', 'show', 'reviser']


def upgrade() -> None:
    with op.batch_alter_table('revision_result', schema=None) as batch_op:
        batch_op.drop_constraint('revision_result_once', type_='unique')
        batch_op.create_unique_constraint('revision_result_once', [*ONCE, 'reviser_hash', 'grader'])
        batch_op.drop_constraint('revision_result_status_valid', type_='check')
        batch_op.create_check_constraint('revision_result_status_valid', "status IN ('done', 'failed', 'ungraded')")
    with op.batch_alter_table('revision_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ungraded', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    # Back to one result per (trace, source, show, reviser): the newest row of each is kept, and an
    # ungraded result becomes what it was before this revision would have made it, a failed one.
    op.execute(
        "DELETE FROM revision_result WHERE id NOT IN (SELECT MAX(id) FROM revision_result "
        "GROUP BY trace_id, critique_source, show, reviser)"
    )
    op.execute("UPDATE revision_result SET status = 'failed' WHERE status = 'ungraded'")
    with op.batch_alter_table('revision_run', schema=None) as batch_op:
        batch_op.drop_column('ungraded')
    with op.batch_alter_table('revision_result', schema=None) as batch_op:
        batch_op.drop_constraint('revision_result_status_valid', type_='check')
        batch_op.create_check_constraint('revision_result_status_valid', "status IN ('done', 'failed')")
        batch_op.drop_constraint('revision_result_once', type_='unique')
        batch_op.create_unique_constraint('revision_result_once', ONCE)
