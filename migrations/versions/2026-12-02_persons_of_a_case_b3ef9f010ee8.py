"""persons of a case, chosen into its requests with what each request discloses

A case gets its register of persons (``case_persons``: identity and protection measures
encrypted at rest, each bound to its row). A request's persons become the persons of its case
chosen into it (``mla_request_persons.case_person_id``), with what the request discloses
(identity or pseudonym, details, measures); received persons keep their identity as received,
with the measures sent along (``protection_enc``).

Existing data is kept: each outgoing request's person becomes a person of its case (one person
for the same identity and capacities typed in several requests of a case), chosen into the
request with everything it carried before (the identity and every detail). The ciphertext of
the first such row moves as it is: the case person takes that row's public id, to which it is
bound. The downgrade writes each request's identity back into its row.

Revision ID: b3ef9f010ee8
Revises: ffd9ce8da32d
Create Date: 2026-12-02 14:00:00

"""

import json
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from exchange.envelopes.stores import decrypt_field, encrypt_field

# revision identifiers, used by Alembic.
revision = "b3ef9f010ee8"
down_revision = "ffd9ce8da32d"
branch_labels = None
depends_on = None

DETAILS = (
    "aliases",
    "date_of_birth",
    "place_of_birth",
    "nationality",
    "identity_documents",
    "address",
    "language",
)
FLAGS = ("is_victim", "is_minor", "is_witness", "is_suspect")


def upgrade():
    op.create_table(
        "case_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("is_victim", sa.Boolean(), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("is_witness", sa.Boolean(), nullable=False),
        sa.Column("is_suspect", sa.Boolean(), nullable=False),
        sa.Column("identity_enc", sa.Text(), nullable=False),
        sa.Column("protection_enc", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_persons_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_case_persons_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_persons")),
        sa.UniqueConstraint("case_id", "label", name=op.f("uq_case_persons_case_id_label")),
        sa.UniqueConstraint("public_id", name=op.f("uq_case_persons_public_id")),
    )
    with op.batch_alter_table("case_persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_persons_case_id"), ["case_id"], unique=False)
    with op.batch_alter_table("mla_request_persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("protection_enc", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("case_person_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("disclosure", sa.String(length=20), nullable=False, server_default="identity")
        )
        batch_op.add_column(
            sa.Column("disclosed_details", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("disclosed_measures", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_mla_request_persons_case_person_id"), ["case_person_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_mla_request_persons_case_person_id_case_persons"),
            "case_persons",
            ["case_person_id"],
            ["id"],
        )
    _move_persons_to_cases()


def _move_persons_to_cases() -> None:
    """Make each outgoing request's person a person of its case, chosen with all it carried."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT p.id, p.public_id, p.label, p.is_victim, p.is_minor, p.is_witness,"
            " p.is_suspect, p.identity_enc, p.created_at, r.case_id, r.created_by_id"
            " FROM mla_request_persons p JOIN mla_requests r ON r.id = p.request_id"
            " WHERE r.side = 'outgoing' AND r.case_id IS NOT NULL ORDER BY r.case_id, p.id"
        )
    ).all()
    found: dict[tuple, int] = {}  # (case, identity, capacities) -> case person id
    labels: dict[int, int] = {}  # case -> persons numbered so far
    for row in rows:
        identity = decrypt_field(row.identity_enc, context=f"person:{row.public_id}")
        canonical = json.dumps(json.loads(identity), sort_keys=True, ensure_ascii=False)
        key = (row.case_id, canonical, tuple(bool(getattr(row, f)) for f in FLAGS))
        if key not in found:
            labels[row.case_id] = labels.get(row.case_id, 0) + 1
            now = row.created_at or datetime.now(UTC)
            # The first row's public id binds its ciphertext: the case person takes it.
            conn.execute(
                sa.text(
                    "INSERT INTO case_persons (public_id, case_id, label, is_victim, is_minor,"
                    " is_witness, is_suspect, identity_enc, protection_enc, created_by_id,"
                    " created_at, updated_at) VALUES (:public_id, :case_id, :label, :is_victim,"
                    " :is_minor, :is_witness, :is_suspect, :identity_enc, :protection_enc,"
                    " :created_by_id, :now, :now)"
                ),
                {
                    "public_id": row.public_id,
                    "case_id": row.case_id,
                    "label": f"P{labels[row.case_id]}",
                    **{f: bool(getattr(row, f)) for f in FLAGS},
                    "identity_enc": row.identity_enc,
                    "protection_enc": encrypt_field(
                        "{}", context=f"person:{row.public_id}:protection"
                    ),
                    "created_by_id": row.created_by_id,
                    "now": now,
                },
            )
            found[key] = conn.execute(
                sa.text("SELECT id FROM case_persons WHERE public_id = :p"),
                {"p": row.public_id},
            ).scalar_one()
        # The request discloses what it carried before: the identity and every detail.
        conn.execute(
            sa.text(
                "UPDATE mla_request_persons SET case_person_id = :cp, disclosure = 'identity',"
                " disclosed_details = :details, identity_enc = '' WHERE id = :id"
            ),
            {"cp": found[key], "details": ",".join(DETAILS), "id": row.id},
        )


def _restore_identities() -> None:
    """Write each chosen person's identity, as its request disclosed it, back into its row."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT p.id, p.public_id, p.disclosure, p.disclosed_details, c.public_id AS cp,"
            " c.identity_enc, c.protection_enc FROM mla_request_persons p"
            " JOIN case_persons c ON c.id = p.case_person_id"
        )
    ).all()
    for row in rows:
        identity = json.loads(decrypt_field(row.identity_enc, context=f"person:{row.cp}"))
        protection = json.loads(
            decrypt_field(row.protection_enc, context=f"person:{row.cp}:protection")
            if row.protection_enc
            else "{}"
        )
        shown = {"name": identity.get("name", "")}
        if row.disclosure == "pseudonym" and protection.get("pseudonym"):
            shown["name"] = protection["pseudonym"]
        for detail in (row.disclosed_details or "").split(","):
            if detail and identity.get(detail):
                shown[detail] = identity[detail]
        conn.execute(
            sa.text("UPDATE mla_request_persons SET identity_enc = :enc WHERE id = :id"),
            {
                "enc": encrypt_field(
                    json.dumps(shown, sort_keys=True, ensure_ascii=False),
                    context=f"person:{row.public_id}",
                ),
                "id": row.id,
            },
        )


def downgrade():
    _restore_identities()
    with op.batch_alter_table("mla_request_persons", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_mla_request_persons_case_person_id_case_persons"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_mla_request_persons_case_person_id"))
        batch_op.drop_column("disclosed_measures")
        batch_op.drop_column("disclosed_details")
        batch_op.drop_column("disclosure")
        batch_op.drop_column("case_person_id")
        batch_op.drop_column("protection_enc")
    with op.batch_alter_table("case_persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_persons_case_id"))
    op.drop_table("case_persons")
