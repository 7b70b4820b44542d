"""order pickups: the pickup code of a BOPIS or curbside order ready at its store

Written when the store has picked every unit of the order (services/pickup_desk.py): the
code the customer shows at the hand-over, the wrong codes tried in a row and the lock
they set, the customer's arrival at the curb, and the hand-over itself.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'order_pickups',
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
        sa.Column('location', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('ready_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('wrong_codes', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('locked_until', sa.DateTime(timezone=True)),
        sa.Column('customer_arrived_at', sa.DateTime(timezone=True)),
        sa.Column('arrival_note', sa.String(length=500)),
        sa.Column('handed_over_at', sa.DateTime(timezone=True)),
        sa.Column('handed_over_by', sa.String(length=200)),
        sa.PrimaryKeyConstraint('order_id'),
    )
    op.create_index('ix_order_pickups_location', 'order_pickups', ['location'])


def downgrade() -> None:
    op.drop_index('ix_order_pickups_location', table_name='order_pickups')
    op.drop_table('order_pickups')
