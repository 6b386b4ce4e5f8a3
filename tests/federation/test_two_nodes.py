"""Two real nodes (separate processes, own databases and keys) run a request through its life.

Dakar hosts Senegal's central authority and the Tambacounda prosecution office; Abuja hosts
Nigeria's central authority (``tests.federation.nodes``). A request is drafted and approved in
Dakar, carried by ``exchange worker``, receipted, opened and registered in Abuja, which asks for
more information; Dakar answers; Abuja executes with an evidence annex; both sides close it.
Both sides are checked at each step. Once per engine (``EXCHANGE_TEST_DATABASE``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests import files
from tests.federation.nodes import Node, engine_url, make_user, node_pair

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def two_nodes(tmp_path: Path) -> Iterator[tuple[Node, Node]]:
    """Return Dakar and Abuja, set up, started, peered both ways; stop them at the end."""
    with node_pair(tmp_path, engine_url(), cli_peering=True) as pair:
        yield pair


def _request(session: Any, conversation: str) -> Any:
    from exchange.mla.models import MlaRequest

    session.expire_all()
    return session.scalar(sa.select(MlaRequest).where(MlaRequest.conversation_id == conversation))


def _actions(request: Any) -> list[str]:
    return [e.action for e in request.events]


def _deliver(node: Node, expected: dict[str, int]) -> None:
    """One pass of the node's worker (its delivery code, run here to spare a process start)."""
    counts = {k: v for k, v in node.worker_pass().items() if k != "waiting"}
    assert counts == expected, counts


def test_a_request_lives_its_whole_life_between_two_nodes(two_nodes):
    from exchange.auth.models import User
    from exchange.cases import services as cases
    from exchange.directory.queries import authority_by_code
    from exchange.federation.models import Delivery
    from exchange.mla import services
    from exchange.mla.annexes import open_annex
    from exchange.mla.models import OutboxMessage
    from tests.mla.conftest import fill_request

    dakar, abuja = two_nodes
    listed = dakar.exchange("peer", "list").stdout
    assert abuja.url in listed and "NG-CA" in listed

    # Draft (Dakar): nothing leaves, nothing in Abuja.
    with dakar.app() as session:
        prosecutor = make_user(session, "prosecutor", "SN-TGI-TAMBA")
        officer = make_user(session, "central_authority_officer", "SN-CA")
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
        session.commit()
        conversation = request.conversation_id
        prosecutor_id, officer_id = prosecutor.id, officer.id
        assert request.state == "draft"
        assert session.scalars(sa.select(OutboxMessage)).all() == []
    _deliver(dakar, {})
    with abuja.app() as session:
        assert _request(session, conversation) is None

    # Approval (four eyes) and transmission: queued in the same unit of work.
    with dakar.app() as session:
        request = _request(session, conversation)
        services.submit(session, session.get(User, prosecutor_id), request)
        services.approve(session, session.get(User, officer_id), request)
        session.commit()
        assert request.state == "transmitted"
        assert _actions(request)[-2:] == ["approve", "transmit"]

    # Transmission by the worker and the delivery receipt, on both sides with its time.
    out = dakar.exchange("worker", "--once").stdout  # the command itself, once
    assert "delivered=1" in out, out
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        assert outgoing.state == "delivered" and _actions(outgoing)[-1] == "deliver"
        message = session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.msg_id == conversation)
        )
        delivery = session.get(Delivery, message.id)
        assert delivery.receipt_status == "delivered" and delivery.receipt
        assert delivery.delivered_at is not None
        assert outgoing.events[-1].at == delivery.delivered_at  # the receipt's time
        assert b"HPKE-MLKEM768X25519" in base64.urlsafe_b64decode(
            delivery.envelope.split(b".")[0] + b"=="
        )
    with abuja.app() as session:
        incoming = _request(session, conversation)
        assert incoming.side == "incoming" and incoming.state == "received"
        assert _actions(incoming) == ["receive"]
        assert services.person_identities(incoming)  # decrypted with Abuja's own data key
        ng_officer = make_user(session, "central_authority_officer", "NG-CA")
        session.commit()
        ng_id, ng_email = ng_officer.id, ng_officer.email

    # A person in Abuja first opens it: the retrieval evidence, on both timelines.
    client = _signed_in(abuja, ng_email)
    page = client.get(f"/requests/{_public_id(abuja, conversation)}")
    assert page.status_code == 200 and b'data-action="retrieve"' in page.get_data()
    _deliver(abuja, {"delivered": 1})
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        retrieved = [e for e in outgoing.events if e.action == "retrieve"]
        assert len(retrieved) == 1 and retrieved[0].actor_authority == "NG-CA"
        assert outgoing.state == "delivered"
    with abuja.app() as session:
        opened = [e for e in _request(session, conversation).events if e.action == "retrieve"]
        assert len(opened) == 1 and abs((opened[0].at - retrieved[0].at).total_seconds()) < 1.5

    # Registration, then a request for information (UNTOC 18(16)).
    with abuja.app() as session:
        incoming = _request(session, conversation)
        ng = session.get(User, ng_id)
        services.act(session, ng, incoming, "register", {"reference": "FMOJ/CAU/2026/77"})
        services.act(session, ng, incoming, "start_execution", {})
        services.act(session, ng, incoming, "request_info", {"reason": "Which village?"})
        session.commit()
        assert incoming.state == "info_requested"
    _deliver(abuja, {"delivered": 3})  # in the order they were made (one conversation)
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        assert outgoing.state == "info_requested"
        assert outgoing.foreign_reference == "FMOJ/CAU/2026/77"
        assert _actions(outgoing)[-3:] == ["acknowledge", "start_execution", "request_info"]

    # The answer.
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        services.act(
            session,
            session.get(User, prosecutor_id),
            outgoing,
            "provide_info",
            {"reason": "Bantaco."},
        )
        session.commit()
        assert outgoing.state == "in_execution"
    _deliver(dakar, {"delivered": 1})
    with abuja.app() as session:
        incoming = _request(session, conversation)
        assert incoming.state == "in_execution" and _actions(incoming)[-1] == "provide_info"

    # Execution with an evidence annex: the file travels as an attachment of the envelope.
    statement = files.pdf("Procès-verbal d'audition de la victime")
    with abuja.app() as session:
        incoming = _request(session, conversation)
        ng = session.get(User, ng_id)
        annex = services.add_annex(
            session,
            ng,
            incoming,
            filename="pv-audition.pdf",
            data=statement,
            kind="result",
            blobs_dir=abuja.instance / "blobs",
            max_bytes=10 << 20,
        )
        services.act(
            session,
            ng,
            incoming,
            "execute",
            {"summary": "Statement taken.", "annexes": [annex.sha256]},
        )
        session.commit()
        sha256 = annex.sha256
        assert incoming.state == "executed"
    _deliver(abuja, {"delivered": 1})
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        assert outgoing.state == "executed" and _actions(outgoing)[-1] == "execute"
        results = [a for a in outgoing.annexes if a.kind == "result"]
        assert [a.sha256 for a in results] == [sha256]
        with open_annex(dakar.instance / "blobs", results[0]) as stored:
            assert stored.read() == statement

    # Closure, on each side by its own people (nothing crosses).
    with dakar.app() as session:
        outgoing = _request(session, conversation)
        services.act(session, session.get(User, prosecutor_id), outgoing, "close", {})
        session.commit()
        assert outgoing.state == "closed"
    with abuja.app() as session:
        incoming = _request(session, conversation)
        services.act(session, session.get(User, ng_id), incoming, "close", {})
        session.commit()
        assert incoming.state == "closed"
    _deliver(dakar, {})
    with dakar.app() as session:
        states = set(session.scalars(sa.select(OutboxMessage.state)))
        assert states == {"delivered"}
    with abuja.app() as session:
        assert set(session.scalars(sa.select(OutboxMessage.state))) == {"delivered"}
        assert _request(session, conversation).state == "closed"


def _public_id(node: Node, conversation: str) -> str:
    with node.app() as session:
        return str(_request(session, conversation).public_id)


def _signed_in(node: Node, email: str) -> Any:
    """Return a test client of the node's app signed in as ``email`` (second factor included)."""
    from exchange.auth.models import User
    from tests.conftest import IsolatedClient, login

    with node.app() as session:
        user = session.scalar(sa.select(User).where(User.email == email))
        node._app.test_client_class = IsolatedClient
        client = node._app.test_client()
        login(client, user)
    return client
