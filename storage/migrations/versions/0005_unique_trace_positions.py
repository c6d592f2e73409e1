"""unique trace positions per project

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 17:25:00

Two imports into one project at once could store traces at the same positions (and an export paging by
position then lost one). Projects holding duplicates are renumbered first, keeping their order
(position, then id); then the position becomes unique per project.
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Numbered into a table of its own first: SQLite evaluates a correlated subquery against rows it has already
# changed in the same UPDATE, which would number the later rows wrongly.
NUMBER = """
CREATE TEMPORARY TABLE trace_renumbered AS
SELECT id, ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY position, id) - 1 AS n FROM trace
WHERE project_id IN (SELECT project_id FROM trace GROUP BY project_id, position HAVING COUNT(*) > 1)
"""
RENUMBER = """
UPDATE trace SET position = (SELECT r.n FROM trace_renumbered AS r WHERE r.id = trace.id)
WHERE id IN (SELECT id FROM trace_renumbered)
"""


def upgrade() -> None:
    op.execute(NUMBER)
    op.execute(RENUMBER)
    op.execute("DROP TABLE trace_renumbered")
    with op.batch_alter_table('trace', schema=None) as batch_op:
        batch_op.drop_index('trace_by_position')
        batch_op.create_index('trace_position_once_per_project', ['project_id', 'position'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('trace', schema=None) as batch_op:
        batch_op.drop_index('trace_position_once_per_project')
        batch_op.create_index('trace_by_position', ['project_id', 'position'], unique=False)
