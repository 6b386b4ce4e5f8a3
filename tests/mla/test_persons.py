"""Persons of a case: entered once, chosen into each request with what it discloses; the envelope
carries exactly that; the reviewing officer sees it, each view on the timeline; a confirmation
before approval; the requested side keeps a victim's identity to the officers in charge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from exchange.cases import persons as register
from exchange.directory.queries import authority_by_code
from exchange.extensions import db
from exchange.mla import inbound, lifecycle, sealing, services
from exchange.mla.errors import MlaError
from exchange.mla.models import INCOMING, MlaRequest, OutboxMessage, RequestEvent
from tests.conftest import csrf_token, login
from tests.mla.conftest import deliver_locally, filler
from tests.mla.peer import envelopes_for

VICTIM = "Aminata Koroma-Bah"
WITNESS = "Ousmane Kébé-Tall"
SUSPECT = "Jean-Marc Diallo-Sy"


def _open_request(author, case, to: str = "NG-CA") -> MlaRequest:  # type: ignore[no-untyped-def]
    """Open a draft of ``case`` with every content field filled, and no person yet."""
    from exchange.mla.definitions import get_type

    request = services.create_request(
        db.session,
        author,
        case,
        request_type="taking_evidence",
        counterpart=authority_by_code(db.session, to),
    )
    definition = get_type(request.request_type)
    assert definition is not None
    values = {f.name: filler(f) for f in definition.all_fields}
    services.update_contents(db.session, author, request, expected_version=None, values=values)
    return request


@pytest.fixture
def people(app, make_user, make_case):  # type: ignore[no-untyped-def]
    """A case with a victim (pseudonym and measures), a witness and a suspect."""
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    case = make_case(prosecutor)
    suspect = register.add_case_person(
        db.session,
        prosecutor,
        case,
        identity={"name": SUSPECT, "nationality": "Guinean"},
        capacities={"suspect"},
    )
    victim = register.add_case_person(
        db.session,
        prosecutor,
        case,
        identity={
            "name": VICTIM,
            "nationality": "Sierra Leonean",
            "date_of_birth": "2009-05-01",
            "address": "Foyer d'accueil, Kédougou",
        },
        capacities={"victim", "minor", "witness"},
        protection={
            "pseudonym": "Witness K-7",
            "confidential_address": True,
            "no_contact_with": [suspect.public_id],
            "guardian": "Mariama Sow, social worker, +221 77 111 11 11",
            "interpreter_language": "Krio",
            "non_punishment": True,
            "support_consent": True,
            "support_organisation": "Siggil Jigeen Network",
        },
    )
    witness = register.add_case_person(
        db.session, prosecutor, case, identity={"name": WITNESS}, capacities={"witness"}
    )
    db.session.commit()
    return {
        "prosecutor": prosecutor,
        "officer": officer,
        "case": case,
        "victim": victim,
        "witness": witness,
        "suspect": suspect,
    }


def _sealed_payload(app, request: MlaRequest) -> dict:  # type: ignore[no-untyped-def]
    """Seal the request's queued message as the delivery worker does, and open the envelope
    with the recipient's key: return the payload that left."""
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.msg_id == request.conversation_id)
    )
    assert message is not None
    envelopes = envelopes_for(message.sender_code, message.recipient_code)
    sealed = envelopes.seal(
        sealing.message_payload(message),
        sender=message.sender_code,
        recipient=message.recipient_code,
        msg_type=message.msg_type,
        conversation=message.conversation_id,
        msg_id=message.msg_id,
        blob_dir=Path(app.instance_path) / "spool",
    )
    assert VICTIM.encode() not in sealed.token  # encrypted on the wire
    opened = envelopes.open(sealed.token)
    assert opened.recipient == "NG-CA"
    # The public contract: another state's node validates it against the schema.
    inbound.check_payload(
        "mla.request", opened.body, conversation=request.conversation_id, recipient="NG-CA"
    )
    return opened.body


def test_finding_38_a_victim_entered_once_is_chosen_into_two_requests_each_sending_what_it_chose(
    app, people
):
    prosecutor, officer = people["prosecutor"], people["officer"]
    victim, suspect = people["victim"], people["suspect"]
    first = _open_request(prosecutor, people["case"])
    services.choose_person(db.session, prosecutor, first, suspect, disclosure="identity")
    services.choose_person(
        db.session,
        prosecutor,
        first,
        victim,
        disclosure="identity",
        details=["nationality", "date_of_birth"],
        measures=["no_contact", "non_punishment", "guardian", "confidential_address"],
    )
    second = _open_request(prosecutor, people["case"], to="ML-CA")
    services.choose_person(
        db.session, prosecutor, second, victim, disclosure="pseudonym", measures=["interpreter"]
    )
    for request in (first, second):
        services.submit(db.session, prosecutor, request)
        services.approve(db.session, officer, request)
    db.session.commit()
    assert len(people["case"].persons) == 3  # entered once: still three persons in the case

    assert _sealed_payload(app, first)["persons"] == [
        {
            "label": "P1",
            "victim": False,
            "minor": False,
            "witness": False,
            "suspect": True,
            "identity": {"name": SUSPECT},  # its nationality was not chosen
        },
        {
            "label": "P2",
            "victim": True,
            "minor": True,
            "witness": True,
            "suspect": False,
            "identity": {
                "name": VICTIM,
                "nationality": "Sierra Leonean",
                "date_of_birth": "2009-05-01",
            },
            "protection": {
                "confidential_address": True,
                "no_contact_with": ["P1"],
                "guardian": "Mariama Sow, social worker, +221 77 111 11 11",
                "non_punishment": True,
            },
        },
    ]
    message = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.msg_id == second.conversation_id)
    )
    body = sealing.message_payload(message)
    assert body["persons"] == [
        {
            "label": "P1",
            "victim": True,
            "minor": True,
            "witness": True,
            "suspect": False,
            "disclosure": "pseudonym",
            "identity": {"name": "Witness K-7"},
            "protection": {"interpreter_language": "Krio"},
        }
    ]
    assert VICTIM not in json.dumps(body, ensure_ascii=False)  # the name never left in it


def test_no_contact_names_no_suspect_the_request_does_not_disclose(app, people):
    prosecutor = people["prosecutor"]
    request = _open_request(prosecutor, people["case"])
    services.choose_person(
        db.session, prosecutor, request, people["victim"], measures=["no_contact"]
    )
    (entry,) = services.disclosed_persons(request)
    assert "protection" not in entry  # the only suspect to avoid is not in this request


def test_choices_are_checked(app, people, make_user, make_case):
    prosecutor = people["prosecutor"]
    request = _open_request(prosecutor, people["case"])
    witness = people["witness"]
    for wrong in (
        {"disclosure": "everything"},
        {"details": ["password"]},
        {"measures": ["teleport"]},
        {"disclosure": "pseudonym"},  # the witness has no pseudonym
    ):
        with pytest.raises(MlaError):
            services.choose_person(db.session, prosecutor, request, witness, **wrong)
    other_case = make_case(prosecutor)
    stranger = register.add_case_person(
        db.session, prosecutor, other_case, identity={"name": "X"}, capacities=set()
    )
    with pytest.raises(MlaError):  # a person of another case
        services.choose_person(db.session, prosecutor, request, stranger)
    outsider = make_user("prosecutor", "SN-TGI-TAMBA")
    with pytest.raises(MlaError):
        services.choose_person(db.session, outsider, request, witness)
    with pytest.raises(register.CaseError):  # only the case team keeps its register
        register.add_case_person(
            db.session, outsider, people["case"], identity={"name": "Y"}, capacities=set()
        )
    with pytest.raises(register.CaseError):  # no contact only with the case's suspects
        register.update_case_person(
            db.session,
            prosecutor,
            witness,
            identity={"name": WITNESS},
            capacities={"witness"},
            protection={"no_contact_with": [people["victim"].public_id]},
        )


def test_persons_of_a_case_are_encrypted_at_rest(app, people):
    rows = db.session.execute(sa.text("SELECT * FROM case_persons")).all()
    raw = " ".join(str(value) for row in rows for value in row)
    for secret in (VICTIM, "Koroma", "Witness K-7", "Krio", "Siggil", "Mariama"):
        assert secret not in raw
    victim = people["victim"]
    with pytest.raises(sealing.SealingError):  # bound to its row
        sealing.decrypt_field(victim.identity_enc, context="person:another")


def _submitted(people) -> MlaRequest:  # type: ignore[no-untyped-def]
    """A request disclosing the victim (nationality only, not her address); the witness stays
    with the case team."""
    prosecutor = people["prosecutor"]
    request = _open_request(prosecutor, people["case"])
    services.choose_person(
        db.session,
        prosecutor,
        request,
        people["victim"],
        details=["nationality"],
        measures=["non_punishment"],
    )
    services.submit(db.session, prosecutor, request)
    db.session.commit()
    return request


def test_the_reviewing_officer_sees_what_is_disclosed_and_each_view_is_on_the_timeline(app, people):
    request = _submitted(people)
    officer = people["officer"]
    client = app.test_client()
    login(client, officer)
    page = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert VICTIM in page and "Sierra Leonean" in page  # what leaves
    assert "Foyer d'accueil" not in page  # her address is not disclosed
    assert WITNESS not in page and SUSPECT not in page  # the case's other persons
    assert "OHCHR" in page  # the non-punishment status travels with her
    client.get(f"/requests/{request.public_id}/approve")
    db.session.expire_all()
    views = db.session.scalars(
        sa.select(RequestEvent).where(
            RequestEvent.request_id == request.id, RequestEvent.action == "view_disclosure"
        )
    ).all()
    assert [(v.actor_id, v.actor_authority) for v in views] == [(officer.id, "SN-CA")] * 2
    assert all(v.at is not None and v.to_state == "in_review" for v in views)
    timeline = client.get(f"/requests/{request.public_id}").get_data(as_text=True)
    assert timeline.count('data-action="view_disclosure"') == 3  # this view is the third
    assert officer.display_name in timeline
    # The case team's own views are not reviews: nothing recorded for them.
    team = app.test_client()
    login(team, people["prosecutor"])
    team.get(f"/requests/{request.public_id}")
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"
    reloaded = db.session.get(MlaRequest, request.id)
    assert lifecycle.fold(reloaded.events, reloaded.side) == "in_review"  # views are no moves


def test_the_confirmation_names_authority_channel_and_persons_and_is_required(app, people):
    request = _submitted(people)
    client = app.test_client()
    login(client, people["officer"])
    url = f"/requests/{request.public_id}/approve"
    page = client.get(url).get_data(as_text=True)
    assert "NG-CA" in page and "Central Authority Unit" in page  # the receiving authority
    assert "sealed envelope" in page.lower() and "SN-CA" in page  # the channel, the sender
    assert "P1 (" + VICTIM in page  # the persons disclosed
    token = csrf_token(client, url)
    refused = client.post(url, data={"csrf_token": token})  # no confirmation ticked
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"
    done = client.post(url, data={"csrf_token": token, "confirm": "y"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "transmitted"


def test_an_approval_refuses_to_send_other_persons_than_the_confirmation_showed(app, people):
    request = _submitted(people)
    client = app.test_client()
    login(client, people["officer"])
    url = f"/requests/{request.public_id}/approve"
    page = client.get(url).get_data(as_text=True)
    digest = services.disclosure_digest(request)
    assert digest in page
    # Meanwhile the case team changes the victim's recorded nationality.
    register.update_case_person(
        db.session,
        people["prosecutor"],
        people["victim"],
        identity={"name": VICTIM, "nationality": "Guinean"},
        capacities={"victim", "minor", "witness"},
        protection=register.protection_of(people["victim"]),
    )
    db.session.commit()
    token = csrf_token(client, url)
    client.post(url, data={"csrf_token": token, "confirm": "y", "disclosure": digest})
    db.session.expire_all()
    assert db.session.get(MlaRequest, request.id).state == "in_review"
    with pytest.raises(MlaError, match="disclosure_changed"):
        services.approve(db.session, people["officer"], request, disclosure_digest=digest)


def test_finding_38_victim_and_suspect_together_is_warned(app, people):
    prosecutor = people["prosecutor"]
    both = register.add_case_person(
        db.session,
        prosecutor,
        people["case"],
        identity={"name": "Fanta Camara"},
        capacities={"victim", "suspect"},
    )
    db.session.commit()
    assert register.person_warnings(both) == ["victim_and_suspect", "victim_without_non_punishment"]
    assert register.person_warnings(people["victim"]) == []  # guardian and status recorded
    client = app.test_client()
    login(client, prosecutor)
    page = client.get(f"/cases/{people['case'].public_id}/persons").get_data(as_text=True)
    assert "both as a victim and as a suspect" in page


def _received(people) -> MlaRequest:  # type: ignore[no-untyped-def]
    """Send the victim by pseudonym with her measures; return NG-CA's copy."""
    prosecutor = people["prosecutor"]
    request = _open_request(prosecutor, people["case"])
    services.choose_person(
        db.session,
        prosecutor,
        request,
        people["victim"],
        disclosure="pseudonym",
        details=["nationality"],
        measures=["non_punishment", "guardian"],
    )
    services.choose_person(db.session, prosecutor, request, people["witness"])
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, people["officer"], request)
    deliver_locally()
    db.session.commit()
    return db.session.scalar(
        sa.select(MlaRequest).where(
            MlaRequest.conversation_id == request.conversation_id, MlaRequest.side == INCOMING
        )
    )


def test_finding_39_the_requested_side_keeps_a_victims_identity_to_the_officers_in_charge(
    app, people, make_user
):
    incoming = _received(people)
    registering = make_user("central_authority_officer", "NG-CA")
    colleague = make_user("central_authority_officer", "NG-CA")
    services.act(db.session, registering, incoming, "register", {"reference": "FMOJ/1"})
    db.session.commit()
    for user, sees_victim in ((registering, True), (colleague, False)):
        client = app.test_client()
        login(client, user)
        page = client.get(f"/requests/{incoming.public_id}").get_data(as_text=True)
        assert ("Witness K-7" in page) == sees_victim, user.display_name
        assert WITNESS in page  # a witness who is neither victim nor minor: all who execute
        assert VICTIM not in page  # only the pseudonym ever arrived
        if sees_victim:
            assert "Pseudonym only" in page and "Mariama Sow" in page and "OHCHR" in page
    # The measures arrived with her and are kept encrypted at rest.
    person = incoming.persons[0]
    assert person.disclosure == "pseudonym"
    assert register.protection_of(person) == {
        "guardian": "Mariama Sow, social worker, +221 77 111 11 11",
        "non_punishment": True,
    }
    raw = " ".join(
        str(v)
        for row in db.session.execute(sa.text("SELECT * FROM mla_request_persons"))
        for v in row
    )
    assert "Mariama" not in raw and "K-7" not in raw


def test_finding_39_a_minor_or_a_victim_disclosed_without_safeguards_is_warned(app, people):
    prosecutor = people["prosecutor"]
    request = _open_request(prosecutor, people["case"])
    services.choose_person(db.session, prosecutor, request, people["victim"])  # no measure
    warned = {i.key for i in services.warnings(db.session, request)}
    assert {"child_safeguards", "non_punishment"} <= warned
    services.choose_person(
        db.session, prosecutor, request, people["victim"], measures=["guardian", "non_punishment"]
    )
    warned = {i.key for i in services.warnings(db.session, request)}
    assert not warned & {"child_safeguards", "non_punishment"}
    assert services.missing(db.session, request) == []  # warnings never block review
    services.choose_person(db.session, prosecutor, request, people["victim"])
    db.session.commit()
    client = app.test_client()
    login(client, prosecutor)
    page = client.get(f"/requests/{request.public_id}/edit/review").get_data(as_text=True)
    assert "without a guardian or support person" in page
