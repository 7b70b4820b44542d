"""ERP snapshot imports and their committed chunks

A snapshot of millions of rows is applied in chunks; each chunk's row is written in the
same transaction as its movements, so a run killed part-way says exactly which lines
were applied, and a re-run of the same file (same size and SHA-256) resumes after them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'snapshot_imports',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('file_name', sa.String(length=500), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('chunk_rows', sa.Integer(), nullable=False),
        sa.Column('chunks', sa.Integer(), server_default='0', nullable=False),
        sa.Column('last_line', sa.BigInteger(), server_default='1', nullable=False),
        sa.Column('rows', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('applied', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('unchanged', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('failed', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('movements', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=True),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_snapshot_imports')),
    )
    op.create_index('ix_snapshot_imports_file', 'snapshot_imports', ['sha256', 'size'], unique=False)
    op.create_table(
        'snapshot_import_chunks',
        sa.Column('import_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('chunk', sa.Integer(), nullable=False),
        sa.Column('first_line', sa.BigInteger(), nullable=False),
        sa.Column('last_line', sa.BigInteger(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('applied', sa.Integer(), nullable=False),
        sa.Column('movements', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['snapshot_imports.id'],
                                name=op.f('fk_snapshot_import_chunks_import_id_snapshot_imports'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'chunk', name=op.f('pk_snapshot_import_chunks')),
    )


def downgrade() -> None:
    op.drop_table('snapshot_import_chunks')
    op.drop_index('ix_snapshot_imports_file', table_name='snapshot_imports')
    op.drop_table('snapshot_imports')
