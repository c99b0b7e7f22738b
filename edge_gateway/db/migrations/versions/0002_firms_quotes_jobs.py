"""Firms, who may call the edge, quotes and the job queue.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "firms",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "principals",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("firm_id", sa.String(40), sa.ForeignKey("firms.id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("firm_id", sa.String(40), sa.ForeignKey("firms.id"), nullable=False),
        sa.Column("part_spec", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("finish", sa.String(40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promise_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("price_eur", sa.Numeric(12, 2), nullable=False),
        sa.Column("cycle_time_s", sa.Float, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quotes_firm_id", "quotes", ["firm_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("firm_id", sa.String(40), sa.ForeignKey("firms.id"), nullable=False),
        sa.Column("quote_id", sa.String(36), sa.ForeignKey("quotes.id"), nullable=True),
        sa.Column("part_spec", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("finish", sa.String(40), nullable=False),
        sa.Column("cycle_time_s", sa.Float, nullable=False),
        sa.Column("part_size_mm", sa.Float, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promise_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weight", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("parts_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_jobs_firm_id", "jobs", ["firm_id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    with op.batch_alter_table("part_records") as batch:
        batch.create_foreign_key("fk_part_records_job", "jobs", ["job_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("part_records") as batch:
        batch.drop_constraint("fk_part_records_job", type_="foreignkey")
    op.drop_index("ix_jobs_status", "jobs")
    op.drop_index("ix_jobs_firm_id", "jobs")
    op.drop_table("jobs")
    op.drop_index("ix_quotes_firm_id", "quotes")
    op.drop_table("quotes")
    op.drop_table("principals")
    op.drop_table("firms")
