"""The programme's own matching data (needs, candidates, engagements, conflicts) and the
centre's blackouts (camps, closures), stored instead of read from the bundled demo or
given in each week job's body.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "match_needs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("municipality", sa.String(16), nullable=False, index=True),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "match_candidates",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "match_engagements",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("candidate", sa.String(64), nullable=False, index=True),
        sa.Column("municipality", sa.String(16), nullable=False, index=True),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "match_conflicts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("candidate", sa.String(64), nullable=False, index=True),
        sa.Column("municipality", sa.String(16), nullable=False, index=True),
        sa.Column("doc", sa.JSON(), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "blackouts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("date", sa.Date(), nullable=False, index=True),
        sa.Column("experts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False))


def downgrade() -> None:
    for table in ("blackouts", "match_conflicts", "match_engagements", "match_candidates",
                  "match_needs"):
        op.drop_table(table)
