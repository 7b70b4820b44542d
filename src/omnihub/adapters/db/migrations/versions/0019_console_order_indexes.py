"""indexes the console reads orders by: the time they were placed, and the channel with the state

The overview counts the orders placed in each of the last ten minutes and the orders page
counts orders by state for one channel; with 100,000 orders both read the whole table
without these (`omnihub bench console`, docs/benchmarks.md). Each costs the order path one
index entry per order written.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 19:20:00
"""
from alembic import op


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orders_placed_at', 'orders', ['placed_at'], unique=False)
    op.create_index('ix_orders_channel_state', 'orders', ['channel', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_orders_channel_state', table_name='orders')
    op.drop_index('ix_orders_placed_at', table_name='orders')
