"""Hand the accountability register over to governance, rows and hashes intact.

The register moved to ``governance.accountability``; its table is governance's
``accountability_entries`` (governance revision ``0001_accountability``). The two
Alembic environments run in either order, so this revision handles both:

* governance has not run yet: rename the table (rows, ``seq`` values and the PostgreSQL
  sequence move with it) and governance's revision adopts it;
* governance created the table first (empty): copy every row, ``seq`` included, advance
  the PostgreSQL sequence past them, then drop the node's table.

It also widens ``model_hash``: ``0002_tenants`` made it 64 characters, but a model's
content hash is ``"sha256:"`` and 64 hex digits, which PostgreSQL refused (SQLite does not
enforce lengths, so only PostgreSQL nodes could not record an invocation).

Revision ID: 0003_register_to_governance
Revises: 0002_tenants
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_register_to_governance"
down_revision = "0002_tenants"
branch_labels = None
depends_on = None

LEGACY = "accountability_register"
TABLE = "accountability_entries"
COLUMNS = (
    "seq",
    "asked_at",
    "asked_by",
    "model_id",
    "model_version",
    "model_hash",
    "input_hash",
    "output",
    "prev_hash",
    "entry_hash",
)
BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
MODEL_HASH_LENGTH = 128  # governance.accountability.tables.MODEL_HASH_LENGTH


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    if not inspector.has_table(LEGACY):
        return
    op.drop_index(f"ix_{LEGACY}_asked_by", table_name=LEGACY)
    if not inspector.has_table(TABLE):
        op.rename_table(LEGACY, TABLE)
        op.create_index(f"ix_{TABLE}_asked_by", TABLE, ["asked_by"])
        with op.batch_alter_table(TABLE) as batch:  # SQLite: copies the table, rows and all
            batch.alter_column(
                "model_hash", type_=sa.String(MODEL_HASH_LENGTH), existing_nullable=False
            )
        return
    _move_rows(bind, LEGACY, TABLE)
    op.drop_table(LEGACY)


def downgrade() -> None:
    """Give the rows back to a node table of ``0002_tenants``'s shape (``model_hash`` kept
    wide enough for the hashes it holds); governance's table is left empty for its own
    downgrade."""
    op.create_table(
        LEGACY,
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("asked_by", sa.String(128), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("model_hash", sa.String(MODEL_HASH_LENGTH), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("output", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index(f"ix_{LEGACY}_asked_by", LEGACY, ["asked_by"])
    bind = op.get_bind()
    if sa.inspect(bind).has_table(TABLE):
        _move_rows(bind, TABLE, LEGACY)


def _move_rows(bind: sa.Connection, source: str, target: str) -> None:
    """Copy every row (``seq`` included), empty ``source``; refuse to merge two chains."""
    src, dst = (
        sa.table(source, *map(sa.column, COLUMNS)),
        sa.table(target, *map(sa.column, COLUMNS)),
    )
    if bind.execute(sa.select(sa.func.count()).select_from(dst)).scalar_one():
        raise RuntimeError(
            f"both {source} and {target} hold register entries: two chains cannot be merged "
            "without breaking them; move them by hand"
        )
    bind.execute(sa.insert(dst).from_select(COLUMNS, sa.select(*src.c)))
    bind.execute(sa.delete(src))
    if bind.dialect.name == "postgresql":  # explicit seq values do not advance the sequence
        top = sa.select(sa.func.coalesce(sa.func.max(dst.c.seq), 0) + 1).scalar_subquery()
        sequence = sa.func.pg_get_serial_sequence(target, "seq")
        bind.execute(sa.select(sa.func.setval(sequence, top, False)))
