"""channel levels remember when the channel's figure was true (observed_at)

`confirmed_at` is when the hub heard; `observed_at` is the channel's own time of the
figure (a webhook's updated_at, a notification's EventTime, a push acknowledgement's
moment). A late notification older than the level the hub already holds changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('channel_levels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('observed_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('channel_levels', schema=None) as batch_op:
        batch_op.drop_column('observed_at')
