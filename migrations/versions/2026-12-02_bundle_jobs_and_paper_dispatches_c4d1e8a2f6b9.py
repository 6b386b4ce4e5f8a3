"""bundle jobs and paper dispatches

Signed bundles built by the worker from the liaison officer's desk (claimed under a lease, the
PDF stored encrypted under instance/bundles/), and the record of each paper dispatch by an
official channel and of its receipt by the other side (issue 8).

Revision ID: c4d1e8a2f6b9
Revises: d03b3182d41f
Create Date: 2026-12-02 19:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c4d1e8a2f6b9"
down_revision = "d03b3182d41f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bundle_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim", sa.String(length=36), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_path", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bundle_id", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.String(length=80), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mla_requests.id"],
            name=op.f("fk_bundle_jobs_request_id_mla_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_bundle_jobs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bundle_jobs")),
        sa.UniqueConstraint("public_id", name=op.f("uq_bundle_jobs_public_id")),
    )
    with op.batch_alter_table("bundle_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_bundle_jobs_state", ["state", "id"], unique=False)
        batch_op.create_index("ix_bundle_jobs_request", ["request_id", "id"], unique=False)
    op.create_table(
        "paper_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("dispatched_on", sa.Date(), nullable=False),
        sa.Column("bundle_job_id", sa.Integer(), nullable=True),
        sa.Column("dispatched_by_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("receipt_reference", sa.String(length=120), nullable=False),
        sa.Column("received_recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bundle_job_id"],
            ["bundle_jobs.id"],
            name=op.f("fk_paper_dispatches_bundle_job_id_bundle_jobs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dispatched_by_id"],
            ["users.id"],
            name=op.f("fk_paper_dispatches_dispatched_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["received_recorded_by_id"],
            ["users.id"],
            name=op.f("fk_paper_dispatches_received_recorded_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mla_requests.id"],
            name=op.f("fk_paper_dispatches_request_id_mla_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_dispatches")),
        sa.UniqueConstraint("public_id", name=op.f("uq_paper_dispatches_public_id")),
    )
    with op.batch_alter_table("paper_dispatches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_paper_dispatches_request", ["request_id", "subject"], unique=False
        )


def downgrade():
    with op.batch_alter_table("paper_dispatches", schema=None) as batch_op:
        batch_op.drop_index("ix_paper_dispatches_request")
    op.drop_table("paper_dispatches")
    with op.batch_alter_table("bundle_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_bundle_jobs_request")
        batch_op.drop_index("ix_bundle_jobs_state")
    op.drop_table("bundle_jobs")
