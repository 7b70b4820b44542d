"""channel budgets: how much of each channel's rate limit the worker is using

The worker spends each channel's rate-limit budget (Shopify's cost bucket, Amazon's usage
plans) in its own memory; it writes what it sees here every few seconds so that the
console, in another process, can show it.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_budgets',
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('used_pct', sa.Float(), nullable=False),
        sa.Column('peak_used_pct', sa.Float()),
        sa.Column('throttled', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('channel_budgets')
