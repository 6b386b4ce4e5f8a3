"""free text that may name people encrypted at rest

Case titles, offences and border localities; case-reference contact points and offence
categories; a request's urgency reason and the payloads of its events (reasons, summaries) are
encrypted with the node's data key (exchange.envelopes.columns.EncryptedText). Existing rows are
encrypted in place; the downgrade decrypts them.

Revision ID: 3c1e9a7d2b40
Revises: 5073dc6b7d0c
Create Date: 2026-11-29 00:50:00

"""

from alembic import op
import sqlalchemy as sa

from exchange.envelopes.columns import column_context
from exchange.envelopes.stores import decrypt_field, encrypt_field

# revision identifiers, used by Alembic.
revision = "3c1e9a7d2b40"
down_revision = "5073dc6b7d0c"
branch_labels = None
depends_on = None

# table -> the columns that become encrypted, with their former type.
COLUMNS = {
    "cases": {"title": sa.String(300), "offences": sa.Text(), "border_localities": sa.Text()},
    "case_references": {"offence_categories": sa.String(300), "contact_point": sa.String(300)},
    "mla_requests": {"urgency_reason": sa.Text()},
    "mla_request_events": {"payload": sa.Text()},
}


def _rewrite(convert) -> None:
    """Rewrite every value of the encrypted columns through ``convert(value, context)``."""
    conn = op.get_bind()
    for table, columns in COLUMNS.items():
        names = list(columns)
        rows = conn.execute(sa.text(f"SELECT id, {', '.join(names)} FROM {table}")).all()  # noqa: S608 - fixed names
        for row in rows:
            values = {
                name: None
                if getattr(row, name) is None
                else convert(getattr(row, name), column_context(f"{table}.{name}"))
                for name in names
            }
            assignments = ", ".join(f"{name} = :{name}" for name in names)
            conn.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE id = :id"),  # noqa: S608
                {**values, "id": row.id},
            )


def _retype(to_text: bool) -> None:
    """Widen the columns that were of limited length to text (ciphertext is longer), or back."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # SQLite copies a table to alter it: the rows that refer to it must not block
        op.execute("PRAGMA foreign_keys=OFF")
    for table, columns in COLUMNS.items():
        limited = {n: t for n, t in columns.items() if not isinstance(t, sa.Text)}
        if not limited:
            continue
        with op.batch_alter_table(table) as batch:
            for name, former in limited.items():
                old, new = (former, sa.Text()) if to_text else (sa.Text(), former)
                batch.alter_column(name, existing_type=old, type_=new)
    if sqlite:
        op.execute("PRAGMA foreign_keys=ON")


def upgrade():
    _retype(to_text=True)
    _rewrite(lambda value, context: encrypt_field(value, context=context))


def downgrade():
    decrypt = lambda value, context: decrypt_field(value, context=context)  # noqa: E731
    if op.get_bind().dialect.name == "sqlite":  # the pragma works only before any write
        _retype(to_text=False)
        _rewrite(decrypt)
    else:  # PostgreSQL enforces the former lengths: the shorter clear text goes back first
        _rewrite(decrypt)
        _retype(to_text=False)
