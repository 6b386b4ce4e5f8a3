"""Translated labels of the MLA area's codes: states, actions, refusal grounds, checklist items."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from exchange.mla.definitions import RequestType

STATE_LABELS = {
    "draft": _l("Draft"),
    "in_review": _l("Under review"),
    "changes_requested": _l("Changes requested"),
    "approved": _l("Approved"),
    "transmitted": _l("Transmitted"),
    "delivered": _l("Delivered"),
    "acknowledged": _l("Acknowledged"),
    "received": _l("Received"),
    "registered": _l("Registered"),
    "in_execution": _l("In execution"),
    "info_requested": _l("Additional information requested"),
    "conditions_proposed": _l("Conditions proposed"),
    "noted": _l("Acknowledged and noted"),
    "partially_executed": _l("Partially executed"),
    "executed": _l("Executed"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
    "closed": _l("Closed"),
    "person_arrested": _l("Person arrested"),
    "released": _l("Person released"),
    "formal_request_sent": _l("Formal extradition request sent"),
    "extradition_granted": _l("Extradition granted"),
    "surrendered": _l("Person surrendered"),
}

ACTION_LABELS = {
    "create": _l("Draft opened"),
    "submit": _l("Submit for review"),
    "approve": _l("Approve and transmit"),
    "request_changes": _l("Ask for changes"),
    "transmit": _l("Transmitted (queued for delivery)"),
    "deliver": _l("Delivered"),
    "retrieve": _l("Retrieved: first opened by a person at the requested authority"),
    "receive": _l("Received"),
    "acknowledge": _l("Acknowledged by the requested authority"),
    "register": _l("Register"),
    "assign": _l("Assign"),
    "start_execution": _l("Start execution"),
    "request_info": _l("Ask for additional information"),
    "provide_info": _l("Provide the additional information"),
    "postpone": _l("Postpone"),
    "execute_partially": _l("Send partial results"),
    "execute": _l("Send final results (executed)"),
    "refuse": _l("Refuse"),
    "withdraw": _l("Withdraw"),
    "close": _l("Close"),
    "propose_conditions": _l("Propose conditions"),
    "accept_conditions": _l("Accept the conditions"),
    "decline_conditions": _l("Decline the conditions"),
    "consult": _l("Record a consultation"),
    "take_note": _l("Acknowledge and take note"),
    "object_to_conditions": _l("Object to the conditions"),
    "view_disclosure": _l("Persons disclosed viewed by the reviewing officer"),
    "arrest": _l("Record the arrest"),
    "release": _l("Record the release"),
    "send_formal_request": _l("Record that the formal extradition request was sent"),
    "grant_extradition": _l("Grant extradition"),
    "surrender": _l("Record the surrender"),
    "consult_costs": _l("Consult on extraordinary costs"),
    "answer_costs": _l("Answer on extraordinary costs"),
    "bundle_built": _l("Signed bundle built"),
    "paper_dispatched": _l("Dispatched on paper"),
    "paper_received": _l("Paper received by the other side"),
}

# The official channels a paper dispatch goes by (exchange.documents), shown on the timeline.
PAPER_CHANNEL_LABELS = {
    "diplomatic_pouch": _l("Diplomatic pouch"),
    "courier": _l("Courier"),
    "central_authority_courier": _l("Central authority's courier"),
    "email": _l("E-mail"),
    "other": _l("Other channel"),
}

# Who bears the costs of executing a request (UNTOC 18(28)), shown beside the costs moves.
COSTS_SOURCE = {
    "en": "UNTOC 18(28)",
    "fr": "CNUCTO, art. 18, par. 28",
    "pt": "UNTOC, art. 18.º, n.º 28",
}

GROUND_LABELS = {
    "not_in_conformity": _l("Not in conformity with the applicable instrument"),
    "essential_interests": _l(
        "Prejudice to sovereignty, security, ordre public or other essential interests"
    ),
    "domestic_law_prohibits": _l("Domestic law would prohibit the action for a similar offence"),
    "contrary_to_legal_system": _l("Contrary to the legal system of the requested state"),
    "dual_criminality": _l("Absence of dual criminality"),
    "discrimination": _l(
        "Prosecution on account of race, sex, religion, nationality, ethnic origin or political opinions"
    ),
    "political_offence": _l("Political offence"),
    "military_offence": _l("Military offence"),
    "ne_bis_in_idem": _l("Ne bis in idem (already tried for the same acts)"),
    "offence_under_investigation": _l(
        "The offence is under investigation or prosecution in the requested state"
    ),
    "compulsory_measure": _l(
        "A compulsory measure inconsistent with the law and practice of the requested state"
    ),
    # Extradition: the state then submits the case to its own prosecutors (UNTOC 16(10)).
    "own_national": _l("The person sought is a national of the requested state"),
}

POSTPONEMENT_GROUND_LABELS = {
    "ongoing_proceedings": _l(
        "Execution would interfere with an ongoing investigation, prosecution or proceedings"
    ),
}

CONDITION_KIND_LABELS = {
    "use": _l("Use of the results only for the stated purpose"),
    "confidentiality": _l("Confidentiality of the request and its results"),
    "return_of_materials": _l("Return of originals and other materials"),
    "other": _l("Other conditions"),
}

# Where each kind of condition comes from (UNTOC 18(19), 18(20); UN Model Treaty art. 7).
CONDITION_KIND_SOURCES = {
    "use": {
        "en": "UNTOC 18(19)",
        "fr": "CNUCTO, art. 18, par. 19",
        "pt": "UNTOC, art. 18.º, n.º 19",
    },
    "confidentiality": {
        "en": "UNTOC 18(20)",
        "fr": "CNUCTO, art. 18, par. 20",
        "pt": "UNTOC, art. 18.º, n.º 20",
    },
    "return_of_materials": {
        "en": "UN Model Treaty on MLA art. 7 (UNVERIFIED for ECOWAS)",
        "fr": "Traité type d'entraide judiciaire de l'ONU, art. 7 (NON VÉRIFIÉ pour la CEDEAO)",
        "pt": "Tratado-Tipo da ONU sobre Auxílio Judiciário Mútuo, art. 7.º (NÃO VERIFICADO para a CEDEAO)",
    },
    "other": {
        "en": "UNTOC 18(26)",
        "fr": "CNUCTO, art. 18, par. 26",
        "pt": "UNTOC, art. 18.º, n.º 26",
    },
}

CHECKLIST_LABELS = {
    "requested_authority": _l("Requested authority"),
    "language": _l("Language accepted by the requested state"),
    "legal_basis": _l("Legal basis"),
    "urgency": _l("Reasons for the urgency or the desired date"),
    "confidentiality": _l("Confidentiality requirement"),
    "persons": _l("Persons concerned (identity, location, nationality)"),
    "victim": _l("The survivor, flagged as a victim"),
    "child_safeguards": _l("Guardian or support person of each minor disclosed"),
    "non_punishment": _l("Non-punishment status of each victim disclosed"),
}
# What the review step says of a structural element it warns about (no field of the type).
CHECKLIST_WARNINGS = {
    "child_safeguards": _l(
        "A minor is disclosed without a guardian or support person among the measures sent: record one in the case and send it, so that no hearing takes place without them."
    ),
    "non_punishment": _l(
        "A victim is disclosed without the non-punishment status: if she or he is a presumed victim of trafficking, record it in the case and send it, so that the requested state does not detain or prosecute them for offences that follow from being trafficked."
    ),
}

ERROR_MESSAGES = {
    "forbidden": _l("You may not do this on this request."),
    "not_allowed": _l("This step is not possible in the request's current state."),
    "four_eyes": _l("You wrote this request: another officer must approve it."),
    "incomplete": _l("The request cannot go to review yet: complete the required elements below."),
    "no_central_authority": _l(
        "Your state has no central authority in the directory to review and transmit requests: ask a node administrator to add it."
    ),
    "changed": _l(
        "Someone else has just changed this request. Your action was not made: see the request as it is now."
    ),
    "stale": _l(
        "Someone else changed this draft since you opened it. Your changes were not saved: review the current version and try again."
    ),
    "same_state": _l("Choose an authority of another state."),
    "bad_language": _l("Choose English, French or Portuguese."),
    "bad_legal_basis": _l("Choose instruments in force between the two states."),
    "unknown_type": _l("Choose a request type."),
    "unknown_field": _l("This form contains an unknown field."),
    "bad_date": _l("Enter a valid date."),
    "bad_choice": _l("Choose one of the answers offered."),
    "too_long": _l("A text is too long."),
    "missing_name": _l("Enter the person's name."),
    "missing_reason": _l("Give the reasons."),
    "missing_ground": _l("Choose a ground for refusal."),
    "unknown_ground": _l("Choose a ground for refusal from the list."),
    "ground_not_for_basis": _l(
        "This ground is not one of the instrument on which the request relies: choose one from the list."
    ),
    "missing_postponement_ground": _l("Choose the ground for postponement."),
    "unknown_postponement_ground": _l("Choose a ground for postponement from the list."),
    "consultation_required": _l(
        "Consult the requesting authority first (propose conditions or record a consultation), or give the reason why no consultation took place."
    ),
    "missing_conditions": _l("Set out the conditions."),
    "missing_consultation": _l("Describe the consultation: when, with whom, and its outcome."),
    "unknown_condition_kind": _l("Choose the kinds of conditions from the list."),
    "missing_reference": _l("Enter the local reference."),
    "missing_on": _l("Enter the date."),
    "missing_costs": _l(
        "Describe the extraordinary costs: what they are, their estimate, and who is to bear them."
    ),
    "missing_authority": _l("Choose the executing authority."),
    "missing_summary": _l("Summarise the results."),
    "bad_authority": _l("Choose an authority of your own state."),
    "bad_officer": _l("Choose an officer of the executing authority who can execute requests."),
    "unknown_annex": _l("Unknown result annex."),
    "empty_file": _l("The file is empty."),
    "too_large": _l("The file is too large."),
    "bad_file_type": _l("Only PDF files and PNG or JPEG images are accepted."),
    "bad_pdf": _l(
        "This PDF cannot be read: it is damaged, or it is not really a PDF. Export or print it to PDF again and attach the new file."
    ),
    "encrypted_pdf": _l(
        "This PDF is protected by a password. Remove the protection, or print it to a new PDF, and attach that file."
    ),
    "active_pdf": _l(
        "This PDF contains active content (scripts, automatic actions, embedded files or interactive forms), which an annex must not carry. Flatten it: open it and print it to a new PDF (“Print to PDF”), then attach that file."
    ),
    "bad_image": _l(
        "This image is damaged or incomplete, larger than 20,000 pixels a side, or carries other data after the picture. Save or export it again as a PNG or JPEG image and attach the new file."
    ),
    "corrupt": _l("This annex cannot be read on this node."),
    "empty_message": _l("Write a message."),
    "bad_kind": _l("Choose a kind of message."),
    "empty_note": _l("Write the note."),
    "note_is_internal": _l(
        "A note for your team is an internal note: write it there, it is never sent abroad."
    ),
    "not_found": _l("Not found."),
    "bad_disclosure": _l("Choose what to disclose from the list."),
    "no_pseudonym": _l("Record a pseudonym for this person in the case first."),
    "disclosure_changed": _l(
        "What the request discloses of its persons changed since the confirmation page was shown: check it again before approving."
    ),
    "busy": _l("The request is busy: try again."),
}

MESSAGE_KIND_LABELS = {
    "consultation": _l("Consultation before a request"),
    "progress_inquiry": _l("Progress inquiry"),
    "reply": _l("Reply"),
    "note": _l("Note"),
}

IDENTITY_LABELS = {
    "name": _l("Full name"),
    "aliases": _l("Aliases"),
    "date_of_birth": _l("Date of birth (or age)"),
    "place_of_birth": _l("Place of birth"),
    "nationality": _l("Nationality"),
    "identity_documents": _l("Identity documents"),
    "address": _l("Address or last known location"),
    "language": _l("Language spoken"),
}

DIRECTION_LABELS = {"outgoing": _l("Outgoing requests"), "incoming": _l("Incoming requests")}


# The authority kind of an investigating judge (juge d'instruction, juiz de instrução).
INVESTIGATING_JUDGE = "investigating_judge"
# What a request for assistance is called when an investigating judge issues it (finding 36):
# the civil-law letter rogatory; a prosecutor's request keeps the plain title.
ROGATORY_LETTER = {
    "en": "International letter rogatory",
    "fr": "Commission rogatoire internationale",
    "pt": "Carta rogatória",
}


def request_title(definition: RequestType, issuer_kind: str, locale: str) -> str:
    """Return a request's title in ``locale``: a letter rogatory when an investigating judge
    issues a request for assistance, else the type's name (for the page and the documents)."""
    label = definition.label_in(locale)
    if issuer_kind == INVESTIGATING_JUDGE and definition.lifecycle == "mla":
        return f"{ROGATORY_LETTER.get(locale, ROGATORY_LETTER['en'])} — {label}"
    return label


def error_message(code: str) -> str:
    """Return the translated explanation of a refusal code."""
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["not_allowed"]))
