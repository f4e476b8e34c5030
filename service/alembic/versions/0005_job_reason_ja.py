"""Why a plan job failed, in Japanese too: ``plan_jobs.reason_ja`` beside ``reason``
(English), so the dashboard's Japanese page does not show ``solver error: …``. Rows written
before keep it empty and are shown with their English reason.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plan_jobs", sa.Column("reason_ja", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_jobs") as batch:
        batch.drop_column("reason_ja")
