"""Users of the cloud API by role; recipe versions and their review.

Revision ID: c0002
Revises: c0001
"""

import sqlalchemy as sa
from alembic import op

revision = "c0002"
down_revision = "c0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "recipe_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recipe_id", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("part_name", sa.String(120), nullable=False),
        sa.Column("finish", sa.String(80), nullable=False),
        sa.Column("content_hash", sa.String(71), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.Column("submitted_by", sa.String(80), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text),
        sa.Column("key_id", sa.String(16)),
        sa.Column("signature", sa.String(128)),
        sa.UniqueConstraint("recipe_id", "version", name="uq_recipe_versions_id_version"),
    )
    op.create_index("ix_recipe_versions_status", "recipe_versions", ["status"])
    op.create_index("ix_recipe_versions_part_finish", "recipe_versions", ["part_name", "finish"])


def downgrade() -> None:
    op.drop_index("ix_recipe_versions_part_finish", "recipe_versions")
    op.drop_index("ix_recipe_versions_status", "recipe_versions")
    op.drop_table("recipe_versions")
    op.drop_table("cloud_users")
