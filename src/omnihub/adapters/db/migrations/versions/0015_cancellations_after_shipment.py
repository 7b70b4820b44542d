"""orders a channel cancelled after the hub shipped them, reported once for a person

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 04:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'cancellations_after_shipment',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('external_id', sa.String(length=200), nullable=False),
        sa.Column('units_gone', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'],
                                name=op.f('fk_cancellations_after_shipment_run_id_reconciliation_runs'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_cancellations_after_shipment')),
        sa.UniqueConstraint('order_id', name='uq_cancellations_after_shipment_order'),
    )


def downgrade() -> None:
    op.drop_table('cancellations_after_shipment')
