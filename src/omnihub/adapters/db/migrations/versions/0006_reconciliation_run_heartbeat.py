"""reconciliation runs carry a heartbeat (liveness) and the process running them

A run killed mid-way used to stay `running` until an hour had passed; with a heartbeat
the next request sees within one lease that nobody is running it and marks it failed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('owner', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_column('owner')
        batch_op.drop_column('heartbeat_at')
