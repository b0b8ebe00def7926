"""JSON request bodies read by hand: no key may be given twice in one object.

msgspec (like most JSON parsers) lets the last of two equal keys win, so
`{"is_match": true, "is_match": false}` would count as `false`. A client that sends that has
a bug; answering 400 shows it instead of guessing which value was meant.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec

from service.errors import InvalidInput

T = TypeVar("T")


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidInput(f"the key {key!r} appears twice in one object")
        seen.add(key)


def duplicate_key(body: bytes) -> str | None:
    """The problem with the first key repeated within one object of `body`, or None.

    Call it on a body that already decoded: it only looks for repeats, not for bad JSON."""
    try:
        json.loads(body, object_pairs_hook=_refuse_repeats)
    except InvalidInput as exc:
        return exc.message
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError: the decoder's to report
        return None
    return None


def decode(body: bytes, type: type[T]) -> T:
    """`body` decoded strictly as `type` (no lenient conversions); a key repeated in one
    object is refused too. Raises msgspec.DecodeError saying what is wrong, either way."""
    value = msgspec.json.decode(body, type=type)
    if problem := duplicate_key(body):
        raise msgspec.DecodeError(problem)
    return value
