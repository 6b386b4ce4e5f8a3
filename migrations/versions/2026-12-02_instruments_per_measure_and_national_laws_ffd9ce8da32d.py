"""instruments per measure and national laws

Each instrument names the request types it covers, whether it is suggested or only chosen by hand
(reciprocity), whether it holds only within UNTOC's scope, and whether an administrator changed it
(a re-seed then keeps their entry); each change is recorded. Parties carry whether ratification is
still to be verified. Notes of states and instruments per language. National laws per state.

Revision ID: ffd9ce8da32d
Revises: 685da5038fec
Create Date: 2026-12-02 14:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "ffd9ce8da32d"
down_revision = "685da5038fec"
branch_labels = None
depends_on = None

UNVERIFIED_NOTE = "Unverified: confirm with the UNODC SHERLOC directory or the WACAP focal point."


def _add_columns(table: str, *columns: sa.Column) -> None:
    """Add ``columns`` to ``table``, leaving any already there: a downgrade on SQLite keeps them."""
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
    missing = [c for c in columns if c.name not in present]
    if missing:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in missing:
                batch_op.add_column(column)


def upgrade():
    _add_columns(
        "jurisdictions",
        sa.Column("notes_fr", sa.Text(), nullable=False, server_default=""),
        sa.Column("notes_pt", sa.Text(), nullable=False, server_default=""),
    )
    _add_columns(
        "instruments",
        sa.Column("notes_fr", sa.Text(), nullable=False, server_default=""),
        sa.Column("notes_pt", sa.Text(), nullable=False, server_default=""),
        sa.Column("kind", sa.String(length=20), nullable=False, server_default="treaty"),
        sa.Column("measures", sa.Text(), nullable=False, server_default="*"),
        sa.Column("suggested", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("untoc_scope", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("unverified", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
    )
    _add_columns(
        "instrument_parties",
        sa.Column("unverified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    _add_columns(
        "authorities",
        sa.Column("unverified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # The English sentence the seed used to append to notes becomes the flag, shown translated.
    authorities = sa.table(
        "authorities",
        sa.column("notes", sa.Text()),
        sa.column("unverified", sa.Boolean()),
    )
    op.execute(
        authorities.update()
        .where(authorities.c.notes.contains(UNVERIFIED_NOTE))
        .values(
            unverified=True,
            notes=sa.func.trim(sa.func.replace(authorities.c.notes, UNVERIFIED_NOTE, "")),
        )
    )
    op.create_table(
        "instrument_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_instrument_changes_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_instrument_changes_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument_changes")),
    )
    with op.batch_alter_table("instrument_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instrument_changes_instrument_id"), ["instrument_id"], unique=False
        )
    op.create_table(
        "national_laws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("jurisdiction_code", sa.String(length=2), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("provisions", sa.String(length=300), nullable=False),
        sa.Column("unverified", sa.Boolean(), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["jurisdiction_code"],
            ["jurisdictions.code"],
            name=op.f("fk_national_laws_jurisdiction_code_jurisdictions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_national_laws")),
        sa.UniqueConstraint("code", name=op.f("uq_national_laws_code")),
    )
    with op.batch_alter_table("national_laws", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_national_laws_jurisdiction_code"), ["jurisdiction_code"], unique=False
        )


def downgrade():
    with op.batch_alter_table("national_laws", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_national_laws_jurisdiction_code"))
    op.drop_table("national_laws")
    with op.batch_alter_table("instrument_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instrument_changes_instrument_id"))
    op.drop_table("instrument_changes")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column by copying the table: dropping ``instruments`` would cascade to its
        # parties, and ``authorities`` is referred to by users and requests, inside a transaction
        # where the foreign-key pragma cannot be turned off. Every added column has a default (or
        # is nullable), so the earlier code reads and writes these tables with them in place.
        return
    with op.batch_alter_table("authorities", schema=None) as batch_op:
        batch_op.drop_column("unverified")
    with op.batch_alter_table("instrument_parties", schema=None) as batch_op:
        batch_op.drop_column("unverified")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        for name in (
            "edited_at",
            "last_verified",
            "unverified",
            "untoc_scope",
            "suggested",
            "measures",
            "kind",
            "notes_pt",
            "notes_fr",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("jurisdictions", schema=None) as batch_op:
        batch_op.drop_column("notes_pt")
        batch_op.drop_column("notes_fr")
