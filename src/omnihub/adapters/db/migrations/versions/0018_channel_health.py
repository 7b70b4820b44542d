"""channel health: whether each channel answers the worker's pushes

The worker knows whether a channel answers (domain/channel_health.py) in its own memory;
it writes it here every few seconds, beside the budgets, so that the console's channels
page, in another process, can show it: answering, failing or down, when it last answered
and confirmed a push, and its last error.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'channel_health',
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('failing_since', sa.DateTime(timezone=True)),
        sa.Column('last_answer_at', sa.DateTime(timezone=True)),
        sa.Column('last_confirmed_at', sa.DateTime(timezone=True)),
        sa.Column('last_error', sa.Text()),
        sa.Column('last_error_at', sa.DateTime(timezone=True)),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('channel_health')
