"""Password hashing (argon2id) and the password policy (length, and zxcvbn's strength estimate)."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; the limit stops a megabyte "password" costing CPU
# zxcvbn's score 3 means about 10^8 guesses or more ("safely unguessable: moderate protection from
# an offline slow-hash scenario"); below it, a throttled online attacker still has a real chance.
MIN_STRENGTH = 3
ZXCVBN_MAX_LENGTH = 72

# Words an attacker of this node tries first, beside zxcvbn's own dictionaries (passwords, names,
# English words, keyboard patterns, dates): the product, the region, its places and institutions.
CONTEXT_WORDS = (
    "exchange",
    "ecowas",
    "cedeao",
    "mla",
    "justice",
    "senegal",
    "sénégal",
    "nigeria",
    "dakar",
    "abuja",
    "tambacounda",
    "kedougou",
    "kédougou",
    "saraya",
    "moussala",
    "naptip",
)
# Passwords published in this project's documentation and demo: never acceptable for a real account.
PUBLISHED_PASSWORDS = frozenset({"kedougou-demo-2026"})

# argon2id with the RFC 9106 "second recommended" parameters (64 MiB, 3 passes), as argon2-cffi's
# defaults; one instance is thread-safe.
_hasher = PasswordHasher()

# A hash of a random password, verified against when the account does not exist, so that the time
# taken does not tell whether an e-mail address has an account.
_DUMMY_HASH = _hasher.hash("no account has this password; it only spends time")


class PasswordPolicyError(ValueError):
    """Raised with a translatable reason when a new password is refused."""


def check_policy(password: str, *, email: str = "", context: Iterable[str] = ()) -> None:
    """Refuse a password that is too short or long, made of the e-mail address, or guessable."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError("too_short")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError("too_long")
    lowered = password.lower()
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        raise PasswordPolicyError("contains_email")
    if lowered in PUBLISHED_PASSWORDS:
        raise PasswordPolicyError("too_guessable")
    # The user's own details are dictionary words too (zxcvbn's ``user_inputs``).
    user_inputs = [*CONTEXT_WORDS, *PUBLISHED_PASSWORDS, email, local_part, *context]
    # zxcvbn's cost grows fast with length and it refuses more than 72 characters; a prefix that
    # long which is hard to guess keeps the whole hard to guess.
    # Imported here: its dictionaries hold about 12 MiB, and only setting a password needs them.
    from zxcvbn import zxcvbn

    estimate = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[w for w in user_inputs if w])
    if estimate["score"] < MIN_STRENGTH:
        raise PasswordPolicyError("too_guessable")


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
