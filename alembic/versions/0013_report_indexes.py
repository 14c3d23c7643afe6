"""indexes for the dashboard's sums: agent state spans by their end, call events by kind and status

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 03:05:00

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_agent_state_span_ended', 'agent_state_span', ['ended_at'], unique=False)
    op.create_index('ix_call_event_kind_status', 'call_event', ['kind', 'status', 'call_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_event_kind_status', table_name='call_event')
    op.drop_index('ix_agent_state_span_ended', table_name='agent_state_span')
