"""internal notes

A request's internal notes: kept by the team on this node, never queued for the other side
(issue 15, defect 3). The body is encrypted at rest like a message's.

Revision ID: a093ffda940b
Revises: b7e41d0c9a26
Create Date: 2026-12-02 08:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a093ffda940b"
down_revision = "b7e41d0c9a26"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mla_internal_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body_enc", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_mla_internal_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mla_requests.id"],
            name=op.f("fk_mla_internal_notes_request_id_mla_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mla_internal_notes")),
        sa.UniqueConstraint("public_id", name=op.f("uq_mla_internal_notes_public_id")),
    )
    with op.batch_alter_table("mla_internal_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mla_internal_notes_request_id"), ["request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("mla_internal_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mla_internal_notes_request_id"))
    op.drop_table("mla_internal_notes")
