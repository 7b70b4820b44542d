"""stock_epoch: who last wrote stock (the SQLite stock writer's cache checks it)

One row whose stamp every transaction writing positions, the queue, pools or channel
figures replaces: the stock writer with its own token, anyone else with a fresh one.
A writer that finds its own token knows nobody else wrote stock since its last commit
(see adapters/db/writer_cache.py).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 16:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stock_epoch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stamp', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_epoch'))
    )


def downgrade() -> None:
    op.drop_table('stock_epoch')
