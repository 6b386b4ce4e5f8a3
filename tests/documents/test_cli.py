"""``exchange documents render``: a request's document to a file, with clear errors."""

from __future__ import annotations

from pathlib import Path

from tests.documents.pdfs import embedded_files, pdf_text, pdfa_identification


def test_render_a_letter_to_a_pdf(exchange, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = exchange()
    out = tmp_path / "letter.pdf"
    args = ["documents", "render", "--request", flow.outgoing.reference, "--document", "letter"]
    result = runner.invoke(
        args=[*args, "--lang", "fr", "--out", str(out), "--as", flow.prosecutor.email]
    )
    assert result.exit_code == 0, result.output
    assert "written to" in result.output
    pdf = out.read_bytes()
    assert pdfa_identification(pdf) == ("3", "B") and embedded_files(pdf) == []
    text = pdf_text(pdf, tmp_path)
    assert "Demande d'entraide judiciaire en matière pénale" in text
    assert "Blessing Okafor" in text and flow.prosecutor.display_name in text
    # By default the requested state's language (Nigeria: English), the requesting one's beside it.
    both = tmp_path / "both.pdf"
    result = runner.invoke(args=[*args, "--also", "fr", "--out", str(both)])
    assert result.exit_code == 0, result.output
    assert "(en, fr)" in result.output and "no identity" in result.output
    text = pdf_text(both.read_bytes(), tmp_path)
    assert text.index("Undertakings of the requesting State") < text.index(
        "Engagements de l'État requérant"
    )
    assert "Blessing Okafor" not in text  # the operator, without --as, sees no identity


def test_render_a_notice_as_html(exchange, runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = exchange()
    out = tmp_path / "ack.html"
    result = runner.invoke(
        args=["documents", "render", "--request", flow.incoming.reference, "--document",
              "acknowledgement", "--lang", "pt", "--out", str(out), "--html"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Aviso de receção" in out.read_text()


def test_clear_errors(exchange, runner, make_user, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flow = exchange()
    out = str(tmp_path / "x.pdf")
    base = ["documents", "render", "--out", out]
    unknown = runner.invoke(args=[*base, "--request", "NOPE/1", "--document", "letter"])
    assert unknown.exit_code != 0 and "no request 'NOPE/1'" in unknown.output
    document = runner.invoke(
        args=[*base, "--request", flow.outgoing.reference, "--document", "memo"]
    )
    assert document.exit_code != 0 and "'memo' is not one of" in document.output
    lang = runner.invoke(
        args=[*base, "--request", flow.outgoing.reference, "--document", "letter", "--lang", "de"]
    )
    assert lang.exit_code != 0 and "'de' is not one of" in lang.output
    stranger = make_user("prosecutor", "SN-TGI-TAMBA")
    hidden = runner.invoke(
        args=[*base, "--request", flow.outgoing.reference, "--document", "letter", "--as",
              stranger.email]
    )  # fmt: skip
    assert hidden.exit_code != 0 and "that this user may read" in hidden.output
    nobody = runner.invoke(
        args=[
            *base,
            "--request",
            flow.outgoing.reference,
            "--document",
            "letter",
            "--as",
            "x@y.example",
        ]
    )
    assert nobody.exit_code != 0 and "no active user" in nobody.output
    nothing = runner.invoke(
        args=[*base, "--request", flow.outgoing.reference, "--document", "refusal_notice"]
    )
    assert nothing.exit_code != 0 and "nothing recorded for a refusal_notice" in nothing.output
    assert not Path(out).exists()
