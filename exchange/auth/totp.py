"""Time-based one-time passwords (RFC 6238) with replay refusal, and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

ISSUER = "Exchange"
INTERVAL = 30
# One step either side, to forgive a phone's clock that has drifted (RFC 6238 section 5.2).
VALID_WINDOW = 1
RECOVERY_CODE_COUNT = 10


def new_secret() -> str:
    """Return a new random base32 TOTP secret (160 bits, RFC 4226 section 4)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str) -> str:
    """Return the ``otpauth://`` URI that an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG data URI (an image, so no inline script or style)."""
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
    """Return fresh recovery codes, shown once to the user, in groups that are easy to copy."""
    return ["-".join(secrets.token_hex(2) for _ in range(3)) for _ in range(RECOVERY_CODE_COUNT)]


def hash_recovery_code(code: str) -> str:
    """Hash a recovery code for storage; codes carry 48 random bits, so SHA-256 suffices."""
    normalised = code.strip().lower().replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()
