"""the queue a call waited in, on the call (the history shows its name)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 15:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    # calls that queued before this revision: their entry's queue
    op.execute(
        'UPDATE "call" SET queue = (SELECT queue_entry.queue FROM queue_entry WHERE queue_entry.call_id = "call".id)'
        " WHERE queue_outcome IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('queue')
