"""JSON from outside the node, bounded in size and nesting before ``json.loads`` does any work.

``json.loads`` recurses once per level of nesting: a header nested 100,000 deep raised
RecursionError out of the envelope layer (finding 8). Every parser of outside input here (protected
headers, signed claims, receipts, JWK Sets, payload files) goes through :func:`parse_object`, which
measures the nesting of the raw text first, in one pass that never recurses, and refuses what is
too deep. Failures are always MalformedEnvelope or OversizedEnvelope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import MalformedEnvelope, OversizedEnvelope

# Deep enough for any payload of wire format v1 (schemas/v1), shallow enough for any stack.
MAX_DEPTH = 32

_NEXT_TOKEN = re.compile(rb'["\[\]{}]')
# The rest of a string after its opening quote; possessive, so a long string never backtracks.
_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.)*+"', re.DOTALL)
_OPEN = frozenset(b"[{")


def nesting_within(data: bytes, max_depth: int) -> bool:
    """Tell whether JSON text nests arrays and objects at most ``max_depth`` deep.

    Brackets inside strings do not count. An unterminated string answers False: the text is
    not JSON. The scan is linear: each string is skipped once, from its opening quote.
    """
    depth, pos = 0, 0
    while (token := _NEXT_TOKEN.search(data, pos)) is not None:
        pos = token.end()
        char = data[token.start()]
        if char == 0x22:  # '"'
            rest = _STRING_REST.match(data, pos)
            if rest is None:
                return False
            pos = rest.end()
        elif char in _OPEN:
            depth += 1
            if depth > max_depth:
                return False
        else:
            depth -= 1
    return True


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (RFC 8259 §6), though Python's json accepts them.
    raise MalformedEnvelope(f"JSON has the non-standard number {name}")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        # RFC 7515 §4 / RFC 7516 §4: duplicate header names MUST be rejected.
        if key in out:
            raise MalformedEnvelope(f"duplicate member {key!r}")
        out[key] = value
    return out


def parse_object(
    data: bytes,
    what: str,
    *,
    max_bytes: int,
    max_depth: int = MAX_DEPTH,
    unique: bool = True,
) -> dict[str, Any]:
    """Parse a JSON object from outside: size, then nesting, then the parse itself.

    With ``unique``, duplicate member names are refused (headers, RFC 7515 §4); without, the
    last one wins (claims, as RFC 7519 §4 allows).
    """
    if len(data) > max_bytes:
        raise OversizedEnvelope(f"{what} is larger than {max_bytes} bytes")
    # No text nests deeper than it has brackets: the scan is only needed past that count (an
    # unterminated string is then refused by the parse itself).
    deep = data.count(b"[") + data.count(b"{") > max_depth
    if deep and not nesting_within(data, max_depth):
        raise MalformedEnvelope(f"{what} is not JSON or nests deeper than {max_depth} levels")
    hook: Callable[[list[tuple[str, Any]]], dict[str, Any]] | None = (
        _reject_duplicates if unique else None
    )
    try:
        obj = json.loads(data.decode("utf-8"), object_pairs_hook=hook, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # ValueError also covers integers longer than Python's 4,300-digit conversion limit.
        raise MalformedEnvelope(f"{what} is not valid JSON") from exc
    if not isinstance(obj, dict):
        raise MalformedEnvelope(f"{what} is not a JSON object")
    return obj


def read_object_file(
    path: Path, what: str, *, max_bytes: int, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """Read a JSON object from a file, reading no more than ``max_bytes`` (plus one) bytes."""
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return parse_object(data, f"{what} {path}", max_bytes=max_bytes, max_depth=max_depth)


def check_value(value: Any, what: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse a Python value that is not plain JSON or nests deeper than ``max_depth``.

    Walks with an explicit stack (never recursion), so a caller's deep structure is refused
    before the JSON encoder would recurse into it.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                raise MalformedEnvelope(f"{what} nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                if not all(isinstance(k, str) for k in item):
                    raise MalformedEnvelope(f"{what} has a member name that is not a string")
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise MalformedEnvelope(f"{what} holds a number JSON cannot carry")
        elif not (item is None or isinstance(item, str | int | bool)):
            raise MalformedEnvelope(f"{what} holds a {type(item).__name__}, which is not JSON")
