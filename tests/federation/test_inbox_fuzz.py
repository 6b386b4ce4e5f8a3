"""The inbox fuzzed with malformed bodies and headers: never a 5xx, a signed receipt for a refusal.

Bounded (``max_examples``, a deadline, ``pytest-timeout``), so that the suite keeps its time.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange.envelopes import local_trust
from exchange.envelopes.stores import node_envelopes
from exchange.extensions import db

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=40),
    st.sampled_from(
        [
            "ECDH-ES+A256KW",
            "HPKE-MLKEM768X25519-SHA256-A256GCM",
            "A256GCM",
            "none",
            "NG-CA",
            "SN-CA",
            "message",
            "mla.request",
            "00000000-0000-0000-0000-000000000000",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
_headers = st.dictionaries(
    st.sampled_from(
        ["alg", "enc", "kid", "cty", "epk", "msg_id", "iss", "aud", "typ", "jwk", "crit", "zip"]
    ),
    _values,
    max_size=9,
)


@st.composite
def _jose_like(draw: st.DrawFn) -> bytes:
    """Five (or some other number of) base64url parts, the first a JSON header of sorts."""
    header = json.dumps(draw(_headers)).encode()
    parts = [_b64(header)] + [
        draw(st.one_of(st.text("ABCxyz019-_", max_size=60), st.just(""), st.text(max_size=10)))
        for _ in range(draw(st.integers(0, 6)))
    ]
    return ".".join(parts).encode("utf-8", "surrogatepass")


_bodies = st.one_of(
    st.binary(max_size=600),
    _jose_like(),
    st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),  # a ZIP of sorts
    st.just(b""),
)
_content_types = st.one_of(
    st.sampled_from(
        [
            "application/jose",
            "application/zip",
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain; charset=utf-16",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
_extra_headers = st.dictionaries(
    st.sampled_from(["Content-Encoding", "X-Forwarded-For", "Accept", "Transfer-Encoding-X"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=3,
)


@pytest.fixture
def keyed(app):  # type: ignore[no-untyped-def]
    """Give Nigeria's central authority, hosted here, its keys (it signs the refusals)."""
    envelopes = node_envelopes(db.session)
    envelopes.keys.generate("NG-CA", pdf=False)
    local_trust(envelopes.keys, envelopes.trust, "NG-CA")
    db.session.commit()


def test_the_inbox_fuzzed_never_answers_5xx(client, keyed):
    @settings(
        max_examples=120,
        deadline=2000,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(body=_bodies, content_type=_content_types, headers=_extra_headers)
    def post(body: bytes, content_type: str, headers: dict[str, str]) -> None:
        answer = client.post(
            "/federation/v1/inbox", data=body, content_type=content_type, headers=headers
        )
        assert answer.status_code < 500, (answer.status_code, body[:80], content_type)
        if answer.status_code in (413, 422):  # a refusal: a signed receipt that says why
            receipt = answer.get_data()
            claims = node_envelopes(db.session).verify_jws(
                receipt, ["NG-CA"], typ="exchange-receipt+jwt"
            )
            assert claims["status"].startswith("rejected:")
        else:
            assert answer.status_code in (400, 415, 429), answer.status_code

    post()
