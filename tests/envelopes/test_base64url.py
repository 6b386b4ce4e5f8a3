"""Strict base64url (RFC 7515 §2): one spelling per byte string, nothing outside the alphabet."""

from __future__ import annotations

import base64
import os

import pytest

from exchange.envelopes import MalformedEnvelope
from exchange.envelopes._jose import b64d, b64e


@pytest.mark.parametrize("size", [0, 1, 2, 3, 31, 32, 33, 2200])
def test_round_trip_matches_the_standard_library(size):
    data = os.urandom(size)
    encoded = b64e(data)
    assert encoded == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert b64d(encoded) == data


@pytest.mark.parametrize(
    "text",
    [
        "QQ==",  # padding
        "a+b/",  # standard alphabet, not url-safe
        "QR",  # non-canonical: unused trailing bits set ("QQ" is the one spelling of b"A")
        "QUJDR",  # length 1 mod 4
        "QU JD",  # space
        "QUJDé",  # non-ASCII
        "QUJD\n",  # newline
    ],
)
def test_other_spellings_are_refused(text):
    with pytest.raises(MalformedEnvelope):
        b64d(text)
