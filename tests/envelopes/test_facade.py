"""The envelope layer is the only place that touches cryptography or a JOSE library."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "exchange"
CRYPTO_IMPORT = re.compile(
    r"^\s*(from|import)\s+(cryptography|jwcrypto|joserfc|jose|jwt|tink)\b", re.M
)


# The API's access tokens are JWTs made with PyJWT, HMAC-SHA256 under a secret of the key store,
# checked by this node alone: one module may import ``jwt`` for them, and nothing else of crypto.
JWT_ONLY = {"api/tokens.py"}
OTHER_THAN_JWT = re.compile(
    r"^\s*(from|import)\s+(cryptography|jwcrypto|joserfc|jose|tink)\b", re.M
)


def test_nothing_outside_the_facade_imports_crypto() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "envelopes" not in path.relative_to(PACKAGE).parts[:1]
        and CRYPTO_IMPORT.search(path.read_text("utf-8"))
        and not (
            str(path.relative_to(PACKAGE)) in JWT_ONLY
            and not OTHER_THAN_JWT.search(path.read_text("utf-8"))
        )
    ]
    assert offenders == []


def test_the_facade_uses_no_jose_library() -> None:
    for path in (PACKAGE / "envelopes").glob("*.py"):
        text = path.read_text("utf-8")
        assert not re.search(r"^\s*(from|import)\s+(jwcrypto|joserfc|jose|jwt)\b", text, re.M), path
