"""channel pools kept on each channel's total row (channel_pools folded into channel_availability)

A channel's pool (the sum of its feeding locations' ATP, before the queue and buffer)
and the total it shows change together: an order's reservation moved both, and each
was its own row to write. The pool is now a column of the total row (location ''),
NULL on per-location rows, so a change writes one row where it wrote two.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 23:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_availability') as batch:
        batch.add_column(sa.Column('pool', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE channel_availability SET pool = (SELECT p.pool FROM channel_pools p "
        "WHERE p.channel = channel_availability.channel AND p.sku = channel_availability.sku) "
        "WHERE location = ''"
    )
    # A pool whose channel never showed anything for the SKU had no total row yet.
    op.execute(
        "INSERT INTO channel_availability (channel, sku, location, quantity, pool, updated_at) "
        "SELECT p.channel, p.sku, '', 0, p.pool, CURRENT_TIMESTAMP FROM channel_pools p "
        "WHERE NOT EXISTS (SELECT 1 FROM channel_availability a "
        "WHERE a.channel = p.channel AND a.sku = p.sku AND a.location = '')"
    )
    op.drop_table('channel_pools')


def downgrade() -> None:
    op.create_table('channel_pools',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('pool', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'sku', name=op.f('pk_channel_pools'))
    )
    op.execute(
        "INSERT INTO channel_pools (channel, sku, pool) SELECT channel, sku, pool FROM channel_availability "
        "WHERE location = '' AND pool IS NOT NULL"
    )
    with op.batch_alter_table('channel_availability') as batch:
        batch.drop_column('pool')
