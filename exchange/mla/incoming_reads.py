"""Statements the receiving side runs for every message it applies, built once per process:
building the same SELECT anew each time cost more than running it (bench/federation.py)."""

from __future__ import annotations

from sqlalchemy import bindparam, select

from exchange.directory.models import Authority
from exchange.mla.models import OUTGOING, MlaRequest

# The two authorities of a message, by code.
AUTHORITIES = select(Authority).where(Authority.code.in_(bindparam("codes", expanding=True)))
# Whether this node holds a copy of a request, and in which state, without loading it with the
# authorities it joins (``MlaRequest.authority`` and ``counterpart`` load eagerly).
COPY_ID = (
    select(MlaRequest.id)
    .join(Authority, Authority.id == MlaRequest.counterpart_id)
    .where(
        MlaRequest.conversation_id == bindparam("conversation"), Authority.code == bindparam("code")
    )
)
OUTGOING_STATE = select(MlaRequest.id, MlaRequest.state).where(
    MlaRequest.conversation_id == bindparam("conversation"), MlaRequest.side == OUTGOING
)
