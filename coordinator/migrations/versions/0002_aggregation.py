"""One aggregation pipeline: decryption requests say what they sum; one publication store.

A decryption request now records the round kind of its aggregate (how key holders attest
it), the parameters that kind needs and the stored submissions in the sum. Benchmarks
move into ``publications`` (kind ``benchmark``), the one store of every publication.

Revision ID: 0002_aggregation
Revises: 0001_a_nodes, 0001_s_statistics
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_aggregation"
down_revision = ("0001_a_nodes", "0001_s_statistics")
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("decryption_requests") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default=""))
        batch.add_column(sa.Column("parameters", sa.Text, nullable=False, server_default="{}"))
        batch.add_column(sa.Column("submissions", sa.Text, nullable=False, server_default="[]"))
    op.execute(
        "INSERT INTO publications (subject_id, kind, body, log_index, published_at) "
        "SELECT benchmark_id, 'benchmark', payload, log_index, published_at FROM benchmarks"
    )
    op.drop_table("benchmarks")


def downgrade() -> None:
    op.create_table(
        "benchmarks",
        sa.Column("benchmark_id", sa.String(64), primary_key=True),
        sa.Column("round_id", BigId, nullable=False, unique=True),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("log_index", BigId, nullable=False),
    )
    with op.batch_alter_table("decryption_requests") as batch:
        for name in ("submissions", "parameters", "kind"):
            batch.drop_column(name)
