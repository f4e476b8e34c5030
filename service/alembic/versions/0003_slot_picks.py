"""Slots chosen from a request's slot proposals: pending (a municipality's choice, holding
the slot until the centre confirms or overrides) and what became of them.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slot_picks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False, index=True),
        sa.Column("municipality", sa.String(16), nullable=False, index=True),
        sa.Column("week", sa.Date(), nullable=False, index=True),
        sa.Column("experts", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("objective_change", sa.Integer(), nullable=True),
        sa.Column("drive_minutes_added", sa.Integer(), nullable=True),
        sa.Column("chosen_role", sa.String(16), nullable=False),
        sa.Column("chosen_key", sa.Integer(), nullable=True),
        sa.Column("chosen_at", TS, nullable=False),
        sa.Column("decided_role", sa.String(16), nullable=True),
        sa.Column("decided_key", sa.Integer(), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("job_id", sa.String(36), nullable=True))


def downgrade() -> None:
    op.drop_table("slot_picks")
