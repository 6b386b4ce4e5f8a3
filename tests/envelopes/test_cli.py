"""The ``exchange keys|trust|envelope`` commands, on the app's database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask

from exchange.envelopes import Envelopes, KeyStore, MemoryTrustStore, import_jwks
from exchange.envelopes.stores import DbSeenMessages, DbTrustStore
from exchange.extensions import db

from .conftest import TEST_KDF_ROUNDS

FOREIGN = "GH-MOJ"


def invoke(runner: Any, *args: str) -> Any:
    result = runner.invoke(args=list(args))
    return result


def test_keys_generate_list_rotate_export(runner: Any, app: Flask) -> None:
    result = invoke(runner, "keys", "generate", "SN-CA", "--pq")
    assert result.exit_code == 0, result.output
    assert {line.split()[1] for line in result.output.splitlines()} == {
        "sig",
        "enc",
        "enc-pq",
        "pdf",
    }
    listed = invoke(runner, "keys", "list", "SN-CA").output.splitlines()
    assert len(listed) == 4 and all("active" in line for line in listed)
    jwks = json.loads(invoke(runner, "keys", "export-public", "SN-CA").output)
    assert jwks["authority"] == "SN-CA" and len(jwks["keys"]) == 3
    assert all("d" not in k for k in jwks["keys"])
    rotated = invoke(runner, "keys", "rotate", "SN-CA", "--use", "sig")
    assert rotated.exit_code == 0, rotated.output
    assert len(json.loads(invoke(runner, "keys", "export-public", "SN-CA").output)["keys"]) == 4
    trusted = invoke(runner, "trust", "list").output
    assert trusted.count("SN-CA") == 4 and "local" in trusted


def test_trust_import_and_open_a_foreign_envelope(runner: Any, app: Flask, tmp_path: Path) -> None:
    assert invoke(runner, "keys", "generate", "NG-CA", "--no-pdf").exit_code == 0
    # Accra, another node, with its own keys and trust store.
    accra_keys = KeyStore(tmp_path / "accra", "accra passphrase", kdf_rounds=TEST_KDF_ROUNDS)
    accra_keys.generate(FOREIGN, pdf=False)
    accra_trust = MemoryTrustStore()
    import_jwks(
        accra_trust,
        json.loads(invoke(runner, "keys", "export-public", "NG-CA").output),
        hosted=accra_keys.authorities_set(),
    )
    accra = Envelopes(accra_keys, accra_trust)
    jwks_file = tmp_path / "gh.json"
    jwks_file.write_text(json.dumps(accra_keys.public_jwks(FOREIGN)))

    envelope = tmp_path / "in.jwe"
    envelope.write_bytes(
        accra.seal(
            {"subject": "hi", "text": "t", "lang": "en"},
            sender=FOREIGN,
            recipient="NG-CA",
            msg_type="message",
        ).token
    )
    refused = invoke(runner, "envelope", "open", "--in", str(envelope))
    assert (
        refused.exit_code == 1
        and "unknown-sender-key" in refused.stderr
        and "hi" not in refused.stdout
    )

    imported = invoke(runner, "trust", "import", str(jwks_file))
    assert imported.exit_code == 0 and imported.output.count(FOREIGN) == 2
    assert invoke(runner, "envelope", "verify", "--in", str(envelope)).output.startswith("ok ")
    receipt = tmp_path / "receipt.jws"
    opened = invoke(
        runner, "envelope", "open", "--in", str(envelope), "--receipt-out", str(receipt)
    )
    assert opened.exit_code == 0, opened.output
    assert json.loads(opened.stdout)["subject"] == "hi"
    assert accra.check_receipt(receipt.read_bytes(), envelope.read_bytes()).status == "delivered"

    again = invoke(
        runner, "envelope", "open", "--in", str(envelope), "--receipt-out", str(tmp_path / "r2")
    )
    assert again.exit_code == 1 and again.stderr.startswith("error: replayed:")
    assert (tmp_path / "r2").read_bytes() == receipt.read_bytes()


def test_seal_and_open_with_attachments(runner: Any, app: Flask, tmp_path: Path) -> None:
    assert invoke(runner, "keys", "generate", "SN-CA", "NG-CA", "--no-pdf").exit_code == 0
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"subject": "annexes", "text": "two files", "lang": "fr"}))
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7 fake" * 1000)
    (tmp_path / "b.txt").write_text("texte")
    out = tmp_path / "env.zip"
    sealed = invoke(
        runner,
        "envelope",
        "seal",
        "--from",
        "SN-CA",
        "--to",
        "NG-CA",
        "--type",
        "message",
        "--in",
        str(payload),
        "--out",
        str(out),
        "--attach",
        str(tmp_path / "a.pdf"),
        "--attach",
        str(tmp_path / "b.txt"),
    )
    assert sealed.exit_code == 0, sealed.output
    assert out.read_bytes()[:4] == b"PK\x03\x04"
    dest = tmp_path / "received"
    opened = invoke(runner, "envelope", "open", "--in", str(out), "--attachments-dir", str(dest))
    assert opened.exit_code == 0, opened.output
    assert (dest / "a.pdf").read_bytes() == (tmp_path / "a.pdf").read_bytes()
    assert (dest / "b.txt").read_text() == "texte"


def test_each_error_is_one_line(runner: Any, app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jwe"
    bad.write_text("eyJhbGciOiJub25lIn0.e30.e30.e30.e30")
    result = invoke(runner, "envelope", "open", "--in", str(bad))
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith(
        "error: algorithm-not-allowed:"
    )


def test_db_seen_messages_keep_the_first_receipt(app: Flask) -> None:
    seen = DbSeenMessages(db.session)
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    assert seen.remember("00000000-0000-4000-8000-000000000009", b"first", now) == b"first"
    assert seen.remember("00000000-0000-4000-8000-000000000009", b"second", now) == b"first"
    db.session.commit()
    assert (
        DbSeenMessages(db.session).receipt_for("00000000-0000-4000-8000-000000000009") == b"first"
    )


def test_db_trust_store_round_trip(app: Flask, tmp_path: Path) -> None:
    keys = KeyStore(tmp_path, "pw", kdf_rounds=TEST_KDF_ROUNDS)
    keys.generate(FOREIGN, pq=True, pdf=False)
    store = DbTrustStore(db.session)
    imported = import_jwks(store, keys.public_jwks(FOREIGN), hosted=())
    db.session.commit()
    assert {k.kid for k in DbTrustStore(db.session).for_authority(FOREIGN)} == {
        k.kid for k in imported
    }
    entry = DbTrustStore(db.session).get(imported[0].kid)
    assert entry is not None and entry.jwk == imported[0].jwk and entry.added_at.tzinfo is not None


def test_app_helpers_sign_verify_and_data_key(runner: Any, app: Flask) -> None:
    from exchange.envelopes import decrypt_field, encrypt_field
    from exchange.envelopes.stores import node_data_keys, sign_jws, verify_jws

    assert invoke(runner, "keys", "generate", "SN-CA", "--no-pdf").exit_code == 0
    token = sign_jws("SN-CA", {"node_url": "https://dakar.example"}, typ="exchange-node+jwt")
    assert (
        verify_jws(token, ["SN-CA"], typ="exchange-node+jwt")["node_url"] == "https://dakar.example"
    )
    ring = node_data_keys(app)
    assert (Path(app.config["EXCHANGE"].keys_dir) / "data-keys.json").is_file()
    sealed = encrypt_field("victim", context="t:1", ring=ring)
    assert decrypt_field(sealed, context="t:1") == "victim"


def test_sender_file_names_never_escape_the_attachments_dir(tmp_path: Path) -> None:
    from exchange.envelopes.local_names import claim_new_file

    (tmp_path / "taken.pdf").write_bytes(b"")
    assert claim_new_file(tmp_path, "../../etc/passwd", "a1").name == "passwd"
    assert claim_new_file(tmp_path, "..\\..\\boot.ini", "a2").name == "boot.ini"
    assert claim_new_file(tmp_path, "..", "a3").name == "a3"
    assert claim_new_file(tmp_path, ".bashrc", "a4").name == "a4"
    assert claim_new_file(tmp_path, "taken.pdf", "a5").name == "a5-taken.pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a3",
        "a4",
        "a5-taken.pdf",
        "boot.ini",
        "passwd",
        "taken.pdf",
    ]
