"""notifications (each the outbox row of its e-mail) and e-mail preferences

Revision ID: d03b3182d41f
Revises: 5d2c8e41b7a3
Create Date: 2026-12-02 18:36:31.365033

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d03b3182d41f"
down_revision = "5d2c8e41b7a3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_preferences_user_id")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_status", sa.String(length=10), nullable=False),
        sa.Column("mail_claim", sa.String(length=36), nullable=True),
        sa.Column("mail_claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_attempts", sa.Integer(), nullable=False),
        sa.Column("mail_next_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_error", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["mla_requests.id"],
            name=op.f("fk_notifications_request_id_mla_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("public_id", name=op.f("uq_notifications_public_id")),
        sa.UniqueConstraint(
            "user_id", "dedup_key", name=op.f("uq_notifications_user_id_dedup_key")
        ),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_mail", ["mail_status", "mail_next_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_mail_claim"), ["mail_claim"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index("ix_notifications_unread", ["user_id", "read_at"], unique=False)
        batch_op.create_index(
            "ix_notifications_user", ["user_id", "created_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user")
        batch_op.drop_index("ix_notifications_unread")
        batch_op.drop_index(batch_op.f("ix_notifications_request_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_mail_claim"))
        batch_op.drop_index("ix_notifications_mail")

    op.drop_table("notifications")
    op.drop_table("notification_preferences")
