"""the durable webhook inbox: signed callbacks stored before they are acknowledged, applied after

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 22:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op



# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'webhook_inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('call_id', sa.Integer(), nullable=True),
        sa.Column('leg', sa.String(length=64), nullable=True),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('error', sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_inbox_pending', 'webhook_inbox', ['applied_at', 'owner', 'id'], unique=False)
    op.create_index(
        'ix_webhook_inbox_given_up', 'webhook_inbox', ['applied_at'], unique=False,
        sqlite_where=sa.text('error IS NOT NULL'), postgresql_where=sa.text('error IS NOT NULL'),
    )
    op.create_table(
        'inbox_worker',
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('owner'),
    )


def downgrade() -> None:
    op.drop_table('inbox_worker')
    op.drop_index('ix_webhook_inbox_given_up', table_name='webhook_inbox')
    op.drop_index('ix_webhook_inbox_pending', table_name='webhook_inbox')
    op.drop_table('webhook_inbox')
