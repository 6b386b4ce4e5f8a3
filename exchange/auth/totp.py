"""Time-based one-time passwords (RFC 6238) with replay refusal, and recovery codes."""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ISSUER = "Exchange"
INTERVAL = 30
# One step either side, to forgive a phone's clock that has drifted (RFC 6238 section 5.2).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10
# Crockford's base32 (no i, l, o, u): 4 groups of 4 characters, 80 random bits per code. The first
# group selects the stored row; the whole code is hashed.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_GROUPS = 4
RECOVERY_GROUP_LENGTH = 4
_CONFUSABLE = str.maketrans({"i": "1", "l": "1", "o": "0", "-": None, " ": None})

# Look-up secrets under 112 bits are stored salted and hashed with a password-hashing function
# (NIST SP 800-63B section 5.1.2.2): argon2id with OWASP's minimum cost for it (19 MiB, 2 passes),
# as codes are far harder to guess than passwords; each hash has its own random salt.
_code_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_CODE_HASH = _code_hasher.hash("0" * RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH)


def new_secret() -> str:
    """Return a new random base32 TOTP secret (160 bits, RFC 4226 section 4)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the ``otpauth://`` URI that an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG data URI (an image, so no inline script or style)."""
    import segno  # only enrolment draws a QR code

    return str(segno.make(uri, error="m").svg_data_uri(scale=4, border=2))


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """Return the time step that ``code`` matches within the allowed window, or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret, interval=INTERVAL)
    current = int(now // INTERVAL)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Return fresh recovery codes, shown once, with distinct first groups, easy to copy."""
    codes: dict[str, str] = {}
    while len(codes) < RECOVERY_CODE_COUNT:
        groups = [
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        ]
        codes.setdefault(groups[0], "-".join(groups))
    return list(codes.values())


def normalise_recovery_code(code: str) -> str | None:
    """Return a typed recovery code in canonical form, or None if it cannot be one."""
    normalised = code.strip().lower().translate(_CONFUSABLE)
    if len(normalised) != RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH:
        return None
    if any(c not in RECOVERY_ALPHABET for c in normalised):
        return None
    return normalised


def recovery_selector(normalised: str) -> str:
    """Return the part of a canonical code that is kept in clear to find its row."""
    return normalised[:RECOVERY_GROUP_LENGTH]


def hash_recovery_code(normalised: str) -> str:
    """Hash a canonical recovery code for storage (argon2id, random salt)."""
    return _code_hasher.hash(normalised)


def verify_recovery_code(code_hash: str | None, normalised: str) -> bool:
    """Check a canonical code against its stored hash; with no hash, spend the same time."""
    try:
        return _code_hasher.verify(code_hash or _DUMMY_CODE_HASH, normalised) and bool(code_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
