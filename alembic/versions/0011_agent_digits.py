"""an agent's digits on Arabic pages (Western or Arabic-Indic)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:40:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('digits', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False, server_default='latn')
        )


def downgrade() -> None:
    with op.batch_alter_table('agent', schema=None) as batch_op:
        batch_op.drop_column('digits')
