"""Two real nodes (separate processes, own databases and keys) exchange a request end to end.

Dakar hosts Senegal's central authority and the Tambacounda prosecution office; Abuja hosts
Nigeria's central authority. The test peers them through ``exchange peer add`` with the
fingerprints each prints, then follows a request: drafted and approved in Dakar, carried by
``exchange worker``, receipted, registered in Abuja, answered, and followed in Dakar.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from exchange import create_app
from exchange.settings import Settings

pytestmark = pytest.mark.slow

def test_a_request_travels_between_two_nodes_and_back(two_nodes):
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.federation.models import Delivery
    from exchange.mla import services
    from exchange.mla.models import MlaRequest, OutboxMessage
    from tests.mla.conftest import fill_request

    dakar, abuja = two_nodes
    listed = dakar.exchange("peer", "list").stdout
    assert abuja.url in listed and "NG-CA" in listed

    # Dakar: a prosecutor drafts, the central authority approves (four eyes): it is queued.
    with dakar.app() as session:
        prosecutor = _user(session, "prosecutor", "SN-TGI-TAMBA")
        officer = _user(session, "central_authority_officer", "SN-CA")
        case = cases.create_case(
            session,
            prosecutor,
            number="PR-TAMBA-2026-0001",
            title="Exploitation sexuelle sur le site d'orpaillage de Bantaco",
            offences="trafficking in persons",
            stage="investigation",
            border_localities="Kédougou",
        )
        request = services.create_request(
            session,
            prosecutor,
            case,
            request_type="taking_evidence",
            counterpart=authority_by_code(session, "NG-CA"),
        )
        fill_request(request, prosecutor)
        services.submit(session, prosecutor, request)
        services.approve(session, officer, request)
        session.commit()
        conversation = request.conversation_id
        assert request.state == "transmitted"

    # Abuja is down: the message stays queued, the attempt is counted, the next one planned.
    abuja.stop()
    out = dakar.exchange("worker", "--once").stdout
    assert "retry=1" in out, out
    with dakar.app() as session:
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation)
        )
        assert message.state == "queued"
        delivery = session.get(Delivery, message.id)
        assert delivery.attempts == 1 and delivery.last_error == "unreachable"
        sealed_once = delivery.envelope
    abuja.start()
    time.sleep(2.0)  # past the first backoff (1 s with jitter of at most 1.5)

    # Dakar's worker posts the same sealed bytes to Abuja (the PQ suite: Abuja has an ML-KEM key).
    out = dakar.exchange("worker", "--once").stdout
    assert "delivered=1" in out, out
    with dakar.app() as session:
        outgoing = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert outgoing.state == "delivered"
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation)
        )
        assert message.state == "delivered"
        delivery = session.get(Delivery, message.id)
        assert delivery.receipt_status == "delivered" and delivery.receipt
        assert delivery.envelope == sealed_once and delivery.attempts == 2
        assert b"HPKE-MLKEM768X25519" in base64.urlsafe_b64decode(
            delivery.envelope.split(b".")[0] + b"=="
        )

    # Abuja: the request arrived at its central authority, which registers it and asks for more.
    with abuja.app() as session:
        incoming = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert incoming is not None and incoming.side == "incoming"
        assert incoming.state == "received"
        assert services.person_identities(incoming)  # decrypted with Abuja's own data key
        ng_officer = _user(session, "central_authority_officer", "NG-CA")
        services.act(session, ng_officer, incoming, "register", {"reference": "FMOJ/CAU/2026/77"})
        services.act(session, ng_officer, incoming, "start_execution", {})
        services.act(session, ng_officer, incoming, "request_info", {"reason": "Which village?"})
        session.commit()
        assert incoming.state == "info_requested"

    out = abuja.exchange("worker", "--once").stdout
    assert "delivered=3" in out, out  # in the order they were made (one conversation)

    with dakar.app() as session:
        outgoing = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert outgoing.state == "info_requested"
        assert outgoing.foreign_reference == "FMOJ/CAU/2026/77"
        services.act(
            session, prosecutor_of(session), outgoing, "provide_info", {"reason": "Bantaco."}
        )
        session.commit()
    assert "delivered=1" in dakar.exchange("worker", "--once").stdout
    with abuja.app() as session:
        incoming = session.scalar(
            sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation)
        )
        assert incoming.state == "in_execution"


def prosecutor_of(session: Any) -> Any:
    from exchange.auth.models import User

    return session.scalar(sa.select(User).where(User.email == "prosecutor@sn-tgi-tamba.demo"))
