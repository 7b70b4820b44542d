"""ledger, catalog, channels, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('channel_availability',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'sku', 'location', name=op.f('pk_channel_availability'))
    )
    op.create_table('channel_pools',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('pool', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'sku', name=op.f('pk_channel_pools'))
    )
    op.create_table('channels',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('per_location', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('share_pct', sa.Integer(), server_default='100', nullable=False),
    sa.Column('fixed_allocation', sa.Integer(), nullable=True),
    sa.Column('buffer', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_channels'))
    )
    op.create_table('command_results',
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('idempotency_key', name=op.f('pk_command_results'))
    )
    op.create_table('config_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_config_version'))
    )
    op.create_table('locations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('capabilities', sa.JSON(), nullable=False),
    sa.Column('groups', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), server_default='100', nullable=False),
    sa.Column('cost_per_shipment_minor', sa.Integer(), server_default='0', nullable=False),
    sa.Column('daily_order_capacity', sa.Integer(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('online_selling', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('processing_hours', sa.Float(), server_default='24', nullable=False),
    sa.Column('cutoff_local', sa.String(length=5), server_default='15:00', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_locations')),
    sa.UniqueConstraint('code', name=op.f('uq_locations_code'))
    )
    op.create_table('movements',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=False),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('position_version', sa.Integer(), nullable=False),
    sa.Column('oversold', sa.Integer(), server_default='0', nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_movements'))
    )
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.create_index('ix_movements_sku_id', ['sku', 'id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_unpublished', ['published_at', 'id'], unique=False)

    op.create_table('oversell_incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('movement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oversell_incidents'))
    )
    op.create_table('positions',
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('on_hand', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reserved', sa.Integer(), server_default='0', nullable=False),
    sa.Column('damaged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('quality_control', sa.Integer(), server_default='0', nullable=False),
    sa.Column('incoming', sa.Integer(), server_default='0', nullable=False),
    sa.Column('in_transit', sa.Integer(), server_default='0', nullable=False),
    sa.Column('version', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('sku', 'location', name=op.f('pk_positions'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('product_type', sa.String(length=200), nullable=True),
    sa.Column('image_url', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products'))
    )
    op.create_table('sku_demand',
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('queued', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('sku', name=op.f('pk_sku_demand'))
    )
    op.create_table('stock_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=128), nullable=True),
    sa.Column('location', sa.String(length=64), nullable=True),
    sa.Column('safety_stock', sa.Integer(), nullable=True),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_policies')),
    sa.UniqueConstraint('channel', 'sku', 'location', name='uq_stock_policies_scope')
    )
    with op.batch_alter_table('stock_policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_policies_sku'), ['sku'], unique=False)

    op.create_table('channel_feeds',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('location', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['channel'], ['channels.code'], name=op.f('fk_channel_feeds_channel_channels')),
    sa.ForeignKeyConstraint(['location'], ['locations.code'], name=op.f('fk_channel_feeds_location_locations')),
    sa.PrimaryKeyConstraint('channel', 'location', name=op.f('pk_channel_feeds'))
    )
    op.create_table('variants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('title', sa.String(length=500), server_default='', nullable=False),
    sa.Column('gtin', sa.String(length=14), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_variants_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variants')),
    sa.UniqueConstraint('gtin', name=op.f('uq_variants_gtin')),
    sa.UniqueConstraint('sku', name=op.f('uq_variants_sku'))
    )
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variants_product_id'), ['product_id'], unique=False)

    op.create_table('channel_listings',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('external_variant_id', sa.String(length=200), nullable=True),
    sa.Column('external_inventory_item_id', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['channel'], ['channels.code'], name=op.f('fk_channel_listings_channel_channels')),
    sa.ForeignKeyConstraint(['sku'], ['variants.sku'], name=op.f('fk_channel_listings_sku_variants')),
    sa.PrimaryKeyConstraint('channel', 'sku', name=op.f('pk_channel_listings')),
    sa.UniqueConstraint('channel', 'external_id', name='uq_channel_listings_external')
    )
    


def downgrade() -> None:
    
    op.drop_table('channel_listings')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variants_product_id'))

    op.drop_table('variants')
    op.drop_table('channel_feeds')
    with op.batch_alter_table('stock_policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_policies_sku'))

    op.drop_table('stock_policies')
    op.drop_table('sku_demand')
    op.drop_table('products')
    op.drop_table('positions')
    op.drop_table('oversell_incidents')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_unpublished')

    op.drop_table('outbox')
    with op.batch_alter_table('movements', schema=None) as batch_op:
        batch_op.drop_index('ix_movements_sku_id')

    op.drop_table('movements')
    op.drop_table('locations')
    op.drop_table('config_version')
    op.drop_table('command_results')
    op.drop_table('channels')
    op.drop_table('channel_pools')
    op.drop_table('channel_availability')
    
