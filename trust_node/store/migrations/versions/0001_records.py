"""Records and ingests: versioned facility records per tenant.

Revision ID: 0001_records
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_records"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
FLOATS = (
    "production_t",
    "coal_tj",
    "coke_tj",
    "natural_gas_tj",
    "oil_tj",
    "biomass_tj",
    "electricity_mwh",
    "clinker_ratio",
    "scrap_share",
    "anode_t",
    "reported_direct_tco2e",
    "verified_direct_tco2e",
)


def upgrade() -> None:
    op.create_table(
        "ingests",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingests_tenant_id", "ingests", ["tenant_id"])
    op.create_table(
        "records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("ingest_id", BigId, sa.ForeignKey("ingests.id"), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("facility_id", sa.String(128), nullable=False),
        sa.Column("jurisdiction", sa.String(2), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("product", sa.String(32), nullable=False),
        sa.Column("route", sa.String(32), nullable=False),
        *[
            sa.Column(name, sa.Float(precision=53), nullable=name != "production_t")
            for name in FLOATS
        ],
        sa.Column("verification", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "record_id", "version", name="uq_records_tenant_record_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("records")
    op.drop_index("ix_ingests_tenant_id", table_name="ingests")
    op.drop_table("ingests")
