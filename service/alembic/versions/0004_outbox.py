"""The outbox: messages to the municipalities and experts an event's repair affected,
written in the same transaction as the repaired plan and delivered by e-mail afterwards
(at most once per message id); and where to reach them (contacts).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("ref", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("updated_at", TS, nullable=False))
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(200), nullable=False, unique=True),
        sa.Column("job_id", sa.String(36), nullable=False, index=True),
        sa.Column("week", sa.Date(), nullable=True, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient_kind", sa.String(16), nullable=False, index=True),
        sa.Column("recipient", sa.String(64), nullable=False, index=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("address", sa.String(254), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("requests", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("sent_at", TS, nullable=True, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("contacts")
