"""The approved recipe versions the cloud published, verified at the edge.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approved_recipes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recipe_id", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("part_name", sa.String(120), nullable=False),
        sa.Column("finish", sa.String(80), nullable=False),
        sa.Column("content_hash", sa.String(71), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("approved_at", sa.String(40), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("recipe_id", "version", name="uq_approved_recipes_id_version"),
    )
    op.create_index("ix_approved_recipes_part_name", "approved_recipes", ["part_name"])


def downgrade() -> None:
    op.drop_index("ix_approved_recipes_part_name", "approved_recipes")
    op.drop_table("approved_recipes")
