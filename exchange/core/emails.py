"""E-mail addresses: one check for every form, service and command that takes one.

Flask-free, so that services and the command line check what the forms check (a form only
stops the portal's input; ``exchange user add`` and the directory's services take addresses too).
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

# RFC 5321 section 4.5.3.1.3: a path is at most 256 octets, its angle brackets included.
MAX_EMAIL_LENGTH = 254


class InvalidEmail(ValueError):
    """The text is not an e-mail address that mail could be sent to."""


def check_email(address: str) -> str:
    """Return ``address`` without surrounding spaces, or raise ``InvalidEmail``.

    The syntax of RFC 5322 and RFC 6531 (internationalised addresses), as email-validator reads
    it, and a domain that may receive mail (no special-use name such as ``.local``); no DNS query,
    so that an address is judged the same on a node without network access.
    """
    address = address.strip()
    if not address or len(address) > MAX_EMAIL_LENGTH:
        raise InvalidEmail(address[:MAX_EMAIL_LENGTH])
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return address
