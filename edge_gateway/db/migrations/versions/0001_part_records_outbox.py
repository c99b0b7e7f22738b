"""Part records and the cloud outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "part_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("part_id", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("cell_id", sa.String(32), nullable=True),
        sa.Column("pipeline", sa.String(128), nullable=True),
        sa.Column("recipe", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("passed", sa.Integer, nullable=True),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("program", sa.JSON, nullable=True),
        sa.Column("pose", sa.JSON, nullable=True),
        sa.Column("decision", sa.String(40), nullable=True),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("film_npz", sa.LargeBinary, nullable=True),
        sa.Column("image_png", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_part_records_part_id", "part_records", ["part_id"])
    op.create_index("ix_part_records_job_id", "part_records", ["job_id"])
    op.create_table(
        "outbox",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("key", sa.String(80), nullable=False, unique=True),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_part_records_job_id", "part_records")
    op.drop_index("ix_part_records_part_id", "part_records")
    op.drop_table("part_records")
