"""Findings 20 and 21: the command line answers bad input with one ``error:`` line, and writes
attachments under safe names that never replace an existing file."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from exchange.envelopes import AttachmentIn, KeyStore, write_container
from exchange.envelopes.local_names import claim_new_file, safe_name
from exchange.envelopes.stores import DbTrustStore, node_envelopes
from exchange.extensions import db

from .conftest import TEST_KDF_ROUNDS

DEEP = 100_000


def refused(result: Any) -> str:
    """Assert one ``error:`` line on stderr, exit status 1, no traceback; return the line."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    return result.stderr


@pytest.fixture
def hosted(runner: Any, app: Flask) -> Any:
    """SN-CA and NG-CA hosted here, keys generated: the CLI runner."""
    assert runner.invoke(args=["keys", "generate", "SN-CA", "NG-CA", "--no-pdf"]).exit_code == 0
    return runner


def sealed_container(folder: Path, files: list[tuple[str, bytes]]) -> Path:
    """Seal a message from SN-CA to NG-CA with attachments into a container file."""
    blobs = folder / "blobs"
    blobs.mkdir(exist_ok=True)
    sealed = node_envelopes(db.session).seal(
        {"subject": "annexes"},
        sender="SN-CA",
        recipient="NG-CA",
        msg_type="message",
        attachments=[AttachmentIn(n, "application/pdf", io.BytesIO(d)) for n, d in files],
        blob_dir=blobs,
    )
    out = folder / f"{sealed.msg_id}.zip"
    write_container(out, sealed.token, sealed.blobs)
    return out


# -- finding 20 -------------------------------------------------------------------------------


def test_finding_20_keys_revoke_at_garbage(hosted: Any) -> None:
    kid = hosted.invoke(args=["keys", "list", "SN-CA"]).output.split()[3]
    line = refused(hosted.invoke(args=["keys", "revoke", kid, "--at", "garbage"]))
    assert "--at 'garbage' is not an ISO 8601 date-time" in line
    ok = hosted.invoke(args=["keys", "revoke", kid, "--at", "2030-01-01T00:00:00"])
    assert ok.exit_code == 0, ok.output
    assert "revoked 2030-01-01T00:00:00+00:00" in hosted.invoke(args=["keys", "list"]).output


@pytest.mark.parametrize("revoked_at", ["not-a-date", "2026-01-01T00:00:00", 20260101, ""])
def test_finding_20_trust_import_revoked_at_not_a_date_or_without_zone(
    hosted: Any, tmp_path: Path, revoked_at: Any
) -> None:
    peer = KeyStore(tmp_path / "accra", "pw", kdf_rounds=TEST_KDF_ROUNDS)
    peer.generate("GH-MOJ", pdf=False)
    jwks = peer.public_jwks("GH-MOJ")
    jwks["keys"][0]["revoked_at"] = revoked_at
    path = tmp_path / "gh.json"
    path.write_text(json.dumps(jwks))
    line = refused(hosted.invoke(args=["trust", "import", str(path)]))
    assert "ISO 8601 date-time with a time zone" in line
    assert DbTrustStore(db.session).for_authority("GH-MOJ") == []


def test_finding_20_deeply_nested_json_in_trust_import_and_seal(
    hosted: Any, tmp_path: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"keys": ' + "[" * DEEP + "]" * DEEP + "}")
    assert "nests deeper" in refused(hosted.invoke(args=["trust", "import", str(deep)]))
    seal = ["envelope", "seal", "--from", "SN-CA", "--to", "NG-CA", "--type", "message"]
    out = tmp_path / "x.jwe"
    line = refused(hosted.invoke(args=[*seal, "--in", str(deep), "--out", str(out)]))
    assert "nests deeper" in line and not out.exists()
    for content in (b"\xff\xfe{}", b"[1, 2]", b"{" + b" " * (1 << 20) + b"}"):
        deep.write_bytes(content)
        refused(hosted.invoke(args=["trust", "import", str(deep)]))


def test_finding_20_envelope_seal_out_to_a_missing_folder(hosted: Any, tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_text('{"subject": "s"}')
    result = hosted.invoke(
        args=[
            *("envelope", "seal", "--from", "SN-CA", "--to", "NG-CA", "--type", "message"),
            *("--in", str(payload), "--out", "/nonexistent-dir/x.jwe"),
        ]
    )
    assert refused(result) == "error: /nonexistent-dir/x.jwe: No such file or directory\n"


def test_finding_20_attachment_names_with_nul_control_bidi_or_too_long(
    hosted: Any, tmp_path: Path
) -> None:
    files = [
        ("a\x00b.pdf", b"%PDF-1.4 nul"),
        ("é" * 200, b"%PDF-1.4 long"),  # 400 bytes: longer than any file name may be
        ("invoice\u202efdp.exe", b"%PDF-1.4 bidi"),
        ("line\nbreak\x1b[31m.pdf", b"%PDF-1.4 control"),
    ]
    container = sealed_container(tmp_path, files)
    dest = tmp_path / "received"
    result = hosted.invoke(
        args=["envelope", "open", "--in", str(container), "--attachments-dir", str(dest)]
    )
    assert result.exit_code == 0, result.output
    written = {p.name: p.read_bytes() for p in dest.iterdir()}
    long_name = "é" * 127  # 254 bytes: the longest whole-character name within 255
    assert written == {
        "a_b.pdf": b"%PDF-1.4 nul",
        long_name: b"%PDF-1.4 long",
        "invoice_fdp.exe": b"%PDF-1.4 bidi",
        "line_break_[31m.pdf": b"%PDF-1.4 control",
    }
    assert all(ord(c) >= 0x20 for c in result.stderr.replace("\n", ""))


# -- finding 21 -------------------------------------------------------------------------------


def test_finding_21_attachments_dir_never_overwrites_on_any_clash(
    hosted: Any, tmp_path: Path
) -> None:
    dest = tmp_path / "received"
    dest.mkdir()
    earlier = {"normal.pdf": b"%PDF-1.4 hello", "a1-normal.pdf": b"%PDF-1.4 earlier"}
    for name, data in earlier.items():
        (dest / name).write_bytes(data)
    outside = tmp_path / "outside.txt"
    (dest / "a1-2-normal.pdf").symlink_to(outside)  # a planted link counts as taken
    for n in (3, 4):
        container = sealed_container(tmp_path, [("normal.pdf", f"%PDF-1.4 MESSAGE {n}".encode())])
        result = hosted.invoke(
            args=["envelope", "open", "--in", str(container), "--attachments-dir", str(dest)]
        )
        assert result.exit_code == 0, result.output
        assert f"a1-{n}-normal.pdf" in result.stderr
    for name, data in earlier.items():
        assert (dest / name).read_bytes() == data
    assert not outside.exists()
    assert (dest / "a1-3-normal.pdf").read_bytes() == b"%PDF-1.4 MESSAGE 3"
    assert (dest / "a1-4-normal.pdf").read_bytes() == b"%PDF-1.4 MESSAGE 4"
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("dir\\sub\\x.pdf", "x.pdf"),
        ("a\x00b", "a_b"),
        ("tab\there", "tab_here"),
        ("x\u202e\u2066\u200by.pdf", "x___y.pdf"),
        ("surrogate\udc80.pdf", "surrogate_.pdf"),
        ("para\u2029graph", "para_graph"),
        (".hidden.pdf", "a1.pdf"),
        ("/", "a1"),
        ("..", "a1"),
    ],
)
def test_finding_21_names_are_made_safe(sent: str, kept: str) -> None:
    assert safe_name(sent, "a1") == kept


def test_finding_21_names_are_bounded_in_bytes_keeping_the_extension(tmp_path: Path) -> None:
    name = safe_name("ü" * 300 + ".pdf", "a1")
    assert name.endswith(".pdf") and len(name.encode()) <= 255
    assert safe_name("x" * 300, "a1", limit=100) == "x" * 100
    first = claim_new_file(tmp_path, "ü" * 300 + ".pdf", "a1")
    second = claim_new_file(tmp_path, "ü" * 300 + ".pdf", "a1")
    assert first != second and first.name.endswith(".pdf") and second.name.startswith("a1-")
    assert all(len(p.name.encode()) <= 255 for p in (first, second))


# -- finding 8 (informational): nothing travels that the signature does not cover -------------


def test_finding_08_container_with_unreferenced_blob_is_refused(
    hosted: Any, tmp_path: Path
) -> None:
    container = sealed_container(tmp_path, [("a.pdf", b"%PDF-1.4 signed")])
    clean = container.read_bytes()
    with zipfile.ZipFile(container, "a") as zf:
        zf.writestr("attachments/a2.blob", b"unsigned extra")
    dest = tmp_path / "received"
    for command in (["verify"], ["open", "--attachments-dir", str(dest)]):
        line = refused(hosted.invoke(args=["envelope", *command, "--in", str(container)]))
        assert "blobs no attachment references: ['a2']" in line
    assert not dest.exists() or not list(dest.iterdir())
    # Refused, the message was not marked as received: the clean container still opens once.
    container.write_bytes(clean)
    result = hosted.invoke(
        args=["envelope", "open", "--in", str(container), "--attachments-dir", str(dest)]
    )
    assert result.exit_code == 0, result.output
    assert (dest / "a.pdf").read_bytes() == b"%PDF-1.4 signed"
