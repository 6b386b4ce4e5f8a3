"""A column type that keeps free text encrypted at rest with the node's data key.

For text that may name a person (a reason, a summary, a case title, a contact point): the model
reads and writes plain ``str``; the database holds only AES-GCM ciphertext whose associated data
names the column, so a value cannot be moved to another column unnoticed. Such a column cannot be
searched or sorted by the database: use it only for text that is displayed, never filtered on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, TypeDecorator
from sqlalchemy.engine import Dialect

from .stores import decrypt_field, encrypt_field


def column_context(name: str) -> str:
    """Return the associated data of an encrypted column (``table.column``)."""
    return f"column:{name}"


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted with the node's data key; ``name`` is its ``table.column``."""

    impl = Text
    cache_ok = True

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """Encrypt a value on its way to the database."""
        return None if value is None else encrypt_field(value, context=column_context(self.name))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        """Decrypt a value read from the database."""
        return None if value is None else decrypt_field(value, context=column_context(self.name))
