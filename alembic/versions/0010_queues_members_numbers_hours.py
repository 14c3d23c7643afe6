"""queues an admin sets up: members, inbound numbers, hours

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('call_queue',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name_ar', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('strategy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ring_seconds', sa.Integer(), nullable=True),
    sa.Column('max_wait_seconds', sa.Integer(), nullable=True),
    sa.Column('announce_seconds', sa.Integer(), nullable=True),
    sa.Column('wrapup_seconds', sa.Integer(), nullable=True),
    sa.Column('hours', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('closed_message_ar', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('closed_message_en', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('queue_member',
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue'], ['call_queue.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('queue', 'agent_id')
    )
    op.create_table('queue_number',
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.ForeignKeyConstraint(['queue'], ['call_queue.code'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('queue_number', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_number_queue'), ['queue'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('queue_number', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_number_queue'))
    op.drop_table('queue_number')
    op.drop_table('queue_member')
    op.drop_table('call_queue')
