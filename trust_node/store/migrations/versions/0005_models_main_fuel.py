"""Records gain the optional ``main_fuel`` column (DATA_CONTRACT.md; issue 16).

Revision ID: 0005_models
Revises: 0004_decrypted_sums
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_models"
down_revision = "0004_decrypted_sums"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("main_fuel", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("main_fuel")
