"""recording retention and its audit log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 13:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('recording_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('storage_key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recording_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recording_audit_recording_id'), ['recording_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recording_audit_call_id'), ['call_id'], unique=False)
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.create_index('ix_recording_status_ready', ['status', 'ready_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recording', schema=None) as batch_op:
        batch_op.drop_index('ix_recording_status_ready')
    with op.batch_alter_table('recording_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recording_audit_call_id'))
        batch_op.drop_index(batch_op.f('ix_recording_audit_recording_id'))
    op.drop_table('recording_audit')
