"""Domain exceptions of the envelope layer.

Each says what was wrong in a short message and carries a stable ``reason`` code, used as
``rejected:<reason>`` in receipts. None ever carries plaintext.
"""

from __future__ import annotations


class EnvelopeError(Exception):
    """Base class: an envelope, receipt, key or blob was refused."""

    reason = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or self.reason)


class MalformedEnvelope(EnvelopeError):
    """The envelope is not well-formed (compact serialization, base64url, JSON, schema)."""

    reason = "malformed"


class TruncatedEnvelope(MalformedEnvelope):
    """The envelope or blob ends before its last part."""

    reason = "truncated"


class OversizedEnvelope(EnvelopeError):
    """The envelope or an attachment is larger than the configured limit."""

    reason = "oversized"


class AlgorithmNotAllowed(EnvelopeError):
    """A header names an algorithm outside the allowed list."""

    reason = "algorithm-not-allowed"


class ForbiddenHeaderParameter(EnvelopeError):
    """A header carries a key or a parameter we never honour (jwk, jku, x5u, x5c, crit, zip)."""

    reason = "forbidden-header"


class UnknownKey(EnvelopeError):
    """No key with this kid is in our key store or trust store."""

    reason = "unknown-key"


class UnknownSenderKey(UnknownKey):
    """The signing key id is not in our trust store."""

    reason = "unknown-sender-key"


class UnknownRecipientKey(UnknownKey):
    """The envelope is encrypted to a key id we do not hold."""

    reason = "unknown-recipient-key"


class RevokedKey(EnvelopeError):
    """The key was revoked: it is no longer trusted from its revocation date."""

    reason = "revoked-key"


class BadSignature(EnvelopeError):
    """The signature does not verify."""

    reason = "bad-signature"


class WrongSenderKey(BadSignature):
    """The signing key belongs to another authority than the claimed sender."""

    reason = "wrong-sender-key"


class DecryptionFailed(EnvelopeError):
    """Authenticated decryption failed (wrong key or altered ciphertext, header or tag)."""

    reason = "decryption-failed"


class NotAddressedToUs(EnvelopeError):
    """The envelope names a recipient or recipient key that is not ours."""

    reason = "not-addressed-to-us"


class HeaderClaimsMismatch(EnvelopeError):
    """A routing copy in the outer header differs from the signed claim."""

    reason = "header-claims-mismatch"


class AttachmentError(EnvelopeError):
    """An attachment blob is missing, altered or does not match the manifest."""

    reason = "attachment"


class AttachmentHashMismatch(AttachmentError):
    """The attachment's plaintext size or SHA-256 differs from the signed manifest."""

    reason = "attachment-hash-mismatch"


class ReplayedMessage(EnvelopeError):
    """The message id was already accepted; answer with the original receipt."""

    reason = "replayed"

    def __init__(self, msg_id: str, receipt: bytes | None) -> None:
        super().__init__(f"message {msg_id} was already accepted")
        self.msg_id = msg_id
        self.receipt = receipt


class ReceiptMismatch(EnvelopeError):
    """The receipt does not answer this envelope."""

    reason = "receipt-mismatch"


class KeyStoreError(EnvelopeError):
    """The key store is missing a key, or a passphrase is wrong."""

    reason = "key-store"
