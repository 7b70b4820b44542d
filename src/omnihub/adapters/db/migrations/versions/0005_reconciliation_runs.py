"""reconciliation runs and findings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('reconciliation_runs',
    sa.Column('id', _ID, nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('levels_compared', sa.Integer(), server_default='0', nullable=False),
    sa.Column('orders_compared', sa.Integer(), server_default='0', nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs'))
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_runs_channel', ['channel', 'id'], unique=False)

    op.create_table('reconciliation_findings',
    sa.Column('id', _ID, nullable=False),
    sa.Column('run_id', _ID, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('hub_quantity', sa.Integer(), nullable=True),
    sa.Column('channel_quantity', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=500), nullable=False),
    sa.Column('repaired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['reconciliation_runs.id'],
                            name=op.f('fk_reconciliation_findings_run_id_reconciliation_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_findings'))
    )
    with op.batch_alter_table('reconciliation_findings', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_findings_run', ['run_id', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reconciliation_findings', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_findings_run')
    op.drop_table('reconciliation_findings')
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_runs_channel')
    op.drop_table('reconciliation_runs')
