"""Password hashing (argon2id) and the password policy (length, a shipped list of common ones)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; the limit stops a megabyte "password" costing CPU

# argon2id with the RFC 9106 "second recommended" parameters (64 MiB, 3 passes), as argon2-cffi's
# defaults; one instance is thread-safe.
_hasher = PasswordHasher()

# A hash of a random password, verified against when the account does not exist, so that the time
# taken does not tell whether an e-mail address has an account.
_DUMMY_HASH = _hasher.hash("no account has this password; it only spends time")


class PasswordPolicyError(ValueError):
    """Raised with a translatable reason when a new password is refused."""


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped list of refused passwords and padded words, lower-cased."""
    path = Path(__file__).with_name("data") / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def check_policy(password: str, *, email: str = "") -> None:
    """Refuse a password that is too short, too long, common, or made of the user's e-mail."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError("too_long")
    lowered = password.lower()
    letters = re.sub(r"[^a-zà-ÿ]", "", lowered)
    words = common_passwords()
    if lowered in words or letters in words or len(set(lowered)) <= 2:
        raise PasswordPolicyError("too_common")
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        raise PasswordPolicyError("contains_email")


def hash_password(password: str) -> str:
    """Hash ``password`` with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash`` in constant-ish time, even with no hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a stored hash uses older parameters and should be replaced at next login."""
    return _hasher.check_needs_rehash(password_hash)
