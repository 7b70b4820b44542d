"""till sales recorded by reconciliation before their order (one sale, counted once)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'till_sales_recorded',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('sku', sa.String(length=128), nullable=False),
        sa.Column('location', sa.String(length=64), nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.Column('units_left', sa.Integer(), nullable=False),
        sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'],
                                name=op.f('fk_till_sales_recorded_run_id_reconciliation_runs'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_till_sales_recorded')),
    )
    op.create_index('ix_till_sales_recorded_open', 'till_sales_recorded', ['sku', 'location', 'units_left'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_till_sales_recorded_open', table_name='till_sales_recorded')
    op.drop_table('till_sales_recorded')
