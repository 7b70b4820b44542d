"""orders, customers, routing

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('brokering_queue',
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_brokering_queue'))
    )
    with op.batch_alter_table('brokering_queue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_brokering_queue_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_table('location_daily_orders',
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('location', 'day', name=op.f('pk_location_daily_orders'))
    )
    op.create_table('order_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('line_id', sa.String(length=100), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('shipment_id', sa.String(length=100), nullable=True),
    sa.Column('carrier', sa.String(length=100), nullable=True),
    sa.Column('tracking_number', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_assignments'))
    )
    with op.batch_alter_table('order_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_order_assignments_location_state', ['location', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_assignments_order_id'), ['order_id'], unique=False)

    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('channel_updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('delivery_method', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('order_value_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('holds', sa.JSON(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('placed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('channel', 'external_id', name='uq_orders_channel_external_id')
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_placed', ['customer_id', 'placed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_state'), ['state'], unique=False)

    op.create_table('routing_decisions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule_set_version', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_decisions'))
    )
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_decisions_order_id'), ['order_id'], unique=False)

    op.create_table('routing_rule_sets',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_routing_rule_sets'))
    )
    op.create_table('customer_channel_ids',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('channel_customer_id', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_channel_ids_customer_id_customers')),
    sa.PrimaryKeyConstraint('channel', 'channel_customer_id', name=op.f('pk_customer_channel_ids'))
    )
    with op.batch_alter_table('customer_channel_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_channel_ids_customer_id'), ['customer_id'], unique=False)

    op.create_table('customer_keys',
    sa.Column('key', sa.String(length=340), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_keys_customer_id_customers')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_customer_keys'))
    )
    with op.batch_alter_table('customer_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_keys_customer_id'), ['customer_id'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('customer_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_keys_customer_id'))

    op.drop_table('customer_keys')
    with op.batch_alter_table('customer_channel_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_channel_ids_customer_id'))

    op.drop_table('customer_channel_ids')
    op.drop_table('routing_rule_sets')
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_decisions_order_id'))

    op.drop_table('routing_decisions')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_state'))
        batch_op.drop_index('ix_orders_customer_placed')

    op.drop_table('orders')
    with op.batch_alter_table('order_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_assignments_order_id'))
        batch_op.drop_index('ix_order_assignments_location_state')

    op.drop_table('order_assignments')
    op.drop_table('location_daily_orders')
    op.drop_table('customers')
    with op.batch_alter_table('brokering_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_brokering_queue_next_attempt_at'))

    op.drop_table('brokering_queue')
    
