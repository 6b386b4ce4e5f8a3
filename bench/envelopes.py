"""Benchmark of the envelope layer against the raw primitives it is built on (run: make bench).

Prints, in one run, medians of several repetitions:
* seal+open per second for a 1 KiB payload, classic suite (Ed25519 + X25519 ECDH-ES+A256KW +
  A256GCM) and post-quantum suite (Ed25519 + HPKE ML-KEM-768/X25519), and the ratio of our time
  to the raw primitives' time measured here with cryptography directly (goal <= 1.5x);
* attachment throughput (MB/s) of the streaming AEAD, sealing and opening, and its ratio to raw
  AES-256-GCM over the same data in the same segments (goal >= 0.7);
* peak memory (ru_maxrss) of a subprocess sealing and opening a 1 GiB attachment streamed from a
  generated file (goal < 64 MiB).
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from exchange.envelopes import (
    Envelopes,
    KeyStore,
    MemoryTrustStore,
    import_jwks,
    local_trust,
)
from exchange.envelopes._jose import HPKE_SUITE
from exchange.envelopes.streaming import decrypt_stream, encrypt_stream

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 11
OPS = 200
MiB = 1 << 20
SEGMENT = MiB


def median_time(func: Callable[[], object], ops: int, repeats: int = REPEATS) -> float:
    """Return the median time of one call, over ``repeats`` runs of ``ops`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(ops):
            func()
        samples.append((time.perf_counter() - start) / ops)
    return statistics.median(samples)


def paired(
    ours: Callable[[], object], raw: Callable[[], object], ops: int
) -> tuple[float, float, float, float]:
    """Time ours and raw alternately, REPEATS rounds.

    Return the median seconds per call of each, the median of the per-round ratios, and the
    ratio of the fastest rounds (least disturbed by other processes on a shared machine).
    """
    ours(), raw()
    ours_t, raw_t, ratios = [], [], []
    for _ in range(REPEATS):
        a = median_time(ours, ops, 1)
        b = median_time(raw, ops, 1)
        ours_t.append(a)
        raw_t.append(b)
        ratios.append(a / b)
    best = min(ours_t) / min(raw_t)
    return statistics.median(ours_t), statistics.median(raw_t), statistics.median(ratios), best


def setup(root: Path) -> tuple[Envelopes, Envelopes, Envelopes]:
    """Return a sender and two receivers (classic and hybrid), trusting each other."""
    stores = {}
    for code, pq in (("SN-CA", False), ("NG-CA", False), ("GH-MOJ", True)):
        keys = KeyStore(root / code, "bench passphrase")
        keys.generate(code, pq=pq, pdf=False)
        stores[code] = keys
    nodes = []
    for code in stores:
        trust = MemoryTrustStore()
        for other, keys in stores.items():
            if other == code:
                local_trust(keys, trust, code)
            else:
                import_jwks(trust, keys.public_jwks(other), hosted=[code])
        nodes.append(Envelopes(stores[code], trust))
    return nodes[0], nodes[1], nodes[2]


def payload() -> dict[str, str]:
    """Return a payload whose JSON is 1 KiB."""
    body = {"subject": "Demande d'entraide judiciaire", "lang": "fr", "text": ""}
    body["text"] = "x" * (1024 - len(json.dumps(body)))
    assert len(json.dumps(body)) == 1024
    return body


def message_round_trip(
    sender: Envelopes, receiver: Envelopes, recipient: str
) -> Callable[[], None]:
    """Return one seal + open of a 1 KiB payload."""
    body = payload()

    def once() -> None:
        token = sender.seal(body, sender="SN-CA", recipient=recipient, msg_type="message").token
        receiver.open(token)

    return once


def raw_classic(inner_len: int) -> Callable[[], None]:
    """Return the raw primitives of one classic seal + open, with cryptography directly."""
    sig_key = ed25519.Ed25519PrivateKey.generate()
    sig_pub = sig_key.public_key()
    recipient = x25519.X25519PrivateKey.generate()
    recipient_pub = recipient.public_key()
    claims, inner = os.urandom(inner_len * 3 // 4), os.urandom(inner_len)
    kek = os.urandom(32)

    def once() -> None:
        signature = sig_key.sign(claims)
        ephemeral = x25519.X25519PrivateKey.generate()
        ephemeral.exchange(recipient_pub)
        cek = os.urandom(32)
        wrapped = aes_key_wrap(kek, cek)
        iv = os.urandom(12)
        sealed = AESGCM(cek).encrypt(iv, inner, b"header")
        recipient.exchange(ephemeral.public_key())
        aes_key_unwrap(kek, wrapped)
        AESGCM(cek).decrypt(iv, sealed, b"header")
        sig_pub.verify(signature, claims)

    return once


def raw_pq(inner_len: int) -> Callable[[], None]:
    """Return the raw primitives of one post-quantum seal + open."""
    from cryptography.hazmat.primitives.asymmetric import mlkem

    sig_key = ed25519.Ed25519PrivateKey.generate()
    sig_pub = sig_key.public_key()
    recipient = hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate()
    )
    recipient_pub = recipient.public_key()
    claims, inner = os.urandom(inner_len * 3 // 4), os.urandom(inner_len)

    def once() -> None:
        signature = sig_key.sign(claims)
        sealed = HPKE_SUITE.encrypt(inner, recipient_pub, info=b"header")
        HPKE_SUITE.decrypt(sealed, recipient, info=b"header")
        sig_pub.verify(signature, claims)

    return once


def bench_streaming(path: Path, size: int) -> dict[str, float]:
    """Return MB/s of our seal and open, and of raw AES-256-GCM (alone, and with SHA-256)."""
    key = os.urandom(32)
    blob = path.with_suffix(".blob")
    raw_blob = path.with_suffix(".raw")
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    plain_segment = SEGMENT - 16

    def seal() -> None:
        with open(path, "rb") as src, open(blob, "wb") as dst:
            encrypt_stream(key, src, dst, b"msg/a1", SEGMENT)

    def open_() -> None:
        with open(blob, "rb") as src:
            decrypt_stream(key, src, _Sink(), b"msg/a1", SEGMENT)

    def raw_encrypt(hashing: bool = False) -> None:
        digest = hashlib.sha256()
        with open(path, "rb") as src, open(raw_blob, "wb") as dst:
            for chunk in iter(lambda: src.read(plain_segment), b""):
                if hashing:
                    digest.update(chunk)
                dst.write(aead.encrypt(nonce, chunk, None))

    def raw_decrypt(hashing: bool = False) -> None:
        digest = hashlib.sha256()
        with open(raw_blob, "rb") as src:
            for chunk in iter(lambda: src.read(SEGMENT), b""):
                plain = aead.decrypt(nonce, chunk, None)
                if hashing:
                    digest.update(plain)

    rate = size / MiB
    out: dict[str, float] = {}
    for label, ours, raw, raw_hashed in (
        ("seal", seal, raw_encrypt, lambda: raw_encrypt(True)),
        ("open", open_, raw_decrypt, lambda: raw_decrypt(True)),
    ):
        ours_t, raw_t, ratio, _ = paired(ours, raw, 1)
        _, hashed_t, hashed_ratio, _ = paired(ours, raw_hashed, 1)
        out[label] = rate / ours_t
        out[f"{label}_raw"] = rate / raw_t
        out[f"{label}_ratio"] = 1 / ratio
        out[f"{label}_raw_sha"] = rate / hashed_t
        out[f"{label}_sha_ratio"] = 1 / hashed_ratio
    return out


class _Sink:
    def write(self, data: bytes) -> int:
        return len(data)


PEAK_SCRIPT = """
import io, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from exchange.envelopes import Envelopes, KeyStore, MemoryTrustStore, AttachmentIn, import_jwks
root = Path(tempfile.mkdtemp(dir=sys.argv[3]))
a, b = KeyStore(root / "a", "pw"), KeyStore(root / "b", "pw")
a.generate("SN-CA", pdf=False); b.generate("NG-CA", pdf=False)
ta, tb = MemoryTrustStore(), MemoryTrustStore()
import_jwks(ta, b.public_jwks("NG-CA"), hosted=["SN-CA"]); import_jwks(tb, a.public_jwks("SN-CA"), hosted=["NG-CA"])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sealed = Envelopes(a, ta).seal({}, sender="SN-CA", recipient="NG-CA", msg_type="message",
    attachments=[AttachmentIn("big.bin", "application/octet-stream", Path(sys.argv[2]))],
    blob_dir=root)
receiver = Envelopes(b, tb)
opened = receiver.open(sealed.token)
class Sink:
    def write(self, d): return len(d)
with open(sealed.blobs["a1"], "rb") as src:
    receiver.open_attachment(opened, "a1", src, Sink())
sealed.blobs["a1"].unlink()
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, opened.attachments[0].size)
"""


def peak_memory(tmp: Path) -> tuple[float, float, int]:
    """Seal and open a 1 GiB attachment in a subprocess; return RSS before and peak (MiB)."""
    big = tmp / "big.bin"
    with open(big, "wb") as fh:
        block = os.urandom(MiB)
        for i in range(1024):
            fh.write(block[i:] + block[:i])  # 1 GiB, generated, never in RAM at once
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(ROOT), str(big), str(tmp)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    big.unlink()
    return int(out[0]) / 1024, int(out[1]) / 1024, int(out[2])


def main() -> None:
    """Run every measurement and print the figures."""
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        sender, classic, pq = setup(tmp / "keys")
        sample = sender.seal(payload(), sender="SN-CA", recipient="NG-CA", msg_type="message")
        inner_len = len(sample.token) * 3 // 4  # the JWS inside, about
        print(f"payload 1 KiB; envelope {len(sample.token)} bytes (classic)")

        for label, ours_fn, raw_fn in (
            ("classic", message_round_trip(sender, classic, "NG-CA"), raw_classic(inner_len)),
            ("pq     ", message_round_trip(sender, pq, "GH-MOJ"), raw_pq(inner_len)),
        ):
            ours, raw, ratio, best = paired(ours_fn, raw_fn, OPS)
            print(
                f"{label}  seal+open: {1 / ours:8.0f}/s   raw primitives: {1 / raw:8.0f}/s   "
                f"median ratio {ratio:.2f}x, fastest runs {best:.2f}x (goal <= 1.5x)"
            )

        size = 256 * MiB
        data = tmp / "stream.bin"
        with open(data, "wb") as fh:
            block = os.urandom(MiB)
            for _ in range(size // MiB):
                fh.write(block)
        rates = bench_streaming(data, size)
        for label in ("seal", "open"):
            print(
                f"attachment {label} (256 MiB file, 1 MiB segments): {rates[label]:6.0f} MB/s; "
                f"raw AES-256-GCM {rates[label + '_raw']:6.0f} MB/s, ratio "
                f"{rates[label + '_ratio']:.2f} (goal >= 0.7); raw AES-256-GCM + SHA-256 "
                f"{rates[label + '_raw_sha']:6.0f} MB/s, ratio {rates[label + '_sha_ratio']:.2f}"
            )
        for leftover in tmp.glob("stream.*"):
            leftover.unlink()

        before, peak, big = peak_memory(tmp)
        print(
            f"1 GiB attachment ({big} bytes) sealed and opened in a subprocess: peak RSS "
            f"{peak:.1f} MiB (after imports and keys {before:.1f} MiB) (goal < 64 MiB)"
        )
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this benchmark process itself peaked at {self_rss:.1f} MiB)")


if __name__ == "__main__":
    main()
