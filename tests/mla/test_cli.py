"""The ``exchange mla`` commands."""

from __future__ import annotations

from sqlalchemy import select

from exchange.extensions import db
from exchange.mla import services
from exchange.mla.models import OutboxMessage


def test_types_command_lists_every_type(runner):
    result = runner.invoke(args=["mla", "types"])
    assert result.exit_code == 0, result.output
    assert "survivor_repatriation" in result.output and "UNTOC 18(3)(a)" in result.output


# The new measures, with one required element each and its source, in the three languages.
NEW_MEASURES = {
    "extradition": {
        "en": ("Extradition", "Warrant of arrest or enforceable judgment", "ECOWAS A/P.1/8/94"),
        "fr": (
            "Demande d'extradition",
            "Mandat d'arrêt ou jugement exécutoire",
            "CEDEAO A/P.1/8/94",
        ),
        "pt": ("Pedido de extradição", "Mandado de detenção ou sentença exequível", "CEDEAO"),
    },
    "provisional_arrest": {
        "en": (
            "Provisional arrest pending extradition",
            "Why the arrest is urgent",
            "UNTOC art. 16(9)",
        ),
        "fr": ("Demande d'arrestation provisoire", "Motifs de l'urgence", "CNUCTO art. 16(9)"),
        "pt": ("Pedido de detenção provisória", "Razões da urgência", "UNTOC art. 16.º, n.º 9"),
    },
    "prosecution_instead_of_extradition": {
        "en": (
            "Request to prosecute instead",
            "Why extradition is not possible",
            "UNTOC art. 16(10)",
        ),
        "fr": (
            "Dénonciation aux fins de poursuites",
            "l'extradition n'est pas possible",
            "CNUCTO art. 16(10)",
        ),
        "pt": (
            "Denúncia para efeitos de procedimento penal",
            "a extradição não é possível",
            "UNTOC art. 16.º, n.º 10",
        ),
    },
    "transfer_of_proceedings": {
        "en": (
            "Transfer of criminal proceedings",
            "Why the proceedings should be transferred",
            "UNTOC art. 21",
        ),
        "fr": ("Transfert des procédures pénales", "Motifs du transfert", "CNUCTO art. 21"),
        "pt": (
            "Transferência de processos penais",
            "Fundamentos da transferência",
            "UNTOC art. 21.º",
        ),
    },
    "joint_investigation_team": {
        "en": ("Joint investigation team", "Proposed members from each state", "UNTOC art. 19"),
        "fr": ("Équipe commune d'enquête", "Membres proposés de chaque État", "CNUCTO art. 19"),
        "pt": (
            "Equipa de investigação conjunta",
            "Membros propostos de cada Estado",
            "UNTOC art. 19.º",
        ),
    },
}


def _section(output: str, code: str, lang: str) -> str:
    """Return the lines the listing gives a type in one language."""
    block = output.split(f"\n{code} (", 1)[1].split("\n\n", 1)[0]
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  [{lang}]"))
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines)
    )
    return "\n".join(lines[start:end])


def test_types_lists_the_new_measures_with_required_elements_in_three_languages(runner):
    result = runner.invoke(args=["mla", "types"])
    assert result.exit_code == 0, result.output
    for code, by_lang in NEW_MEASURES.items():
        for lang, (name, element, source) in by_lang.items():
            section = _section("\n" + result.output, code, lang)
            assert name in section.splitlines()[0], (code, lang)
            required = [line for line in section.splitlines() if line.startswith("      * ")]
            assert any(element in line and source in line for line in required), (code, lang)
    french = runner.invoke(args=["mla", "types", "--lang", "fr"]).output
    assert "CNUCTO 18(3)(a)" in french and "UNTOC 18(3)(a)" not in french
    assert "(déduit)" in french and "[en]" not in french


def test_deliver_local_hands_over_queued_messages(runner, make_user, make_request):
    prosecutor = make_user("prosecutor", "SN-TGI-TAMBA")
    officer = make_user("central_authority_officer", "SN-CA")
    request = make_request(prosecutor)
    services.submit(db.session, prosecutor, request)
    services.approve(db.session, officer, request)
    db.session.commit()
    result = runner.invoke(args=["mla", "deliver-local"])
    assert result.exit_code == 0 and "1 message(s)" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(OutboxMessage.state)) == "delivered"
