"""CouchDB view collation as sortable bytes.

`sort_key(value)` maps a JSON value to bytes whose plain byte order (memcmp, as
SQLite compares BLOBs) is CouchDB's view order:
null < false < true < numbers < strings < arrays < objects; arrays element by
element, a shorter prefix first; objects member by member (name, then value).
Because the bytes sort natively, the SQLite store keeps an index on them and answers
key ranges with plain SQL comparisons.

Strings compare by Unicode code point, as pouchdb-server (the test server) does.
Real CouchDB uses ICU collation, which differs for mixed case and punctuation
("a" < "B" there); the views' keys (statuses, module names, ISO times, labels) are
compared for grouping and ranges, where both orders agree on what matters.
"""

from __future__ import annotations

import enum
import struct
from typing import Any

_NULL = b"\x01"
_FALSE = b"\x02"
_TRUE = b"\x03"
_NUMBER = b"\x04"
_STRING = b"\x05"
_ARRAY = b"\x06"
_OBJECT = b"\x07"
_END = b"\x00"  # ends strings, arrays and objects; lower than every type tag

# The highest possible key: an object sorts after everything else, and this one
# after every other object (its first byte after the tag beats any member).
MAX_KEY = _OBJECT + b"\xff"


def sort_key(value: Any) -> bytes:
    parts: list[bytes] = []
    _encode(value, parts)
    return b"".join(parts)


def decode_key(data: bytes) -> Any:
    """The JSON value of `sort_key` bytes, as CouchDB returns a key: numbers are doubles
    in JavaScript, so an integral number comes back as an int (2.0 emits 2)."""
    value, end = _decode(data, 0)
    if end != len(data):
        raise ValueError("trailing bytes after a collation key")
    return value


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as CouchDB would order the two keys."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def _encode(value: Any, out: list[bytes]) -> None:
    # Exact type checks, most frequent first: this runs for every row of every view.
    kind = type(value)
    if kind is str:
        out.append(_STRING + _string_bytes(value))
    elif kind is int or kind is float:
        out.append(_NUMBER + _number_bytes(float(value)))
    elif kind is list or kind is tuple:
        out.append(_ARRAY)
        for item in value:
            _encode(item, out)
        out.append(_END)
    elif value is None:
        out.append(_NULL)
    elif value is False:
        out.append(_FALSE)
    elif value is True:
        out.append(_TRUE)
    elif kind is dict:
        out.append(_OBJECT)
        for name, item in value.items():
            out.append(_string_bytes(str(name)))
            _encode(item, out)
        out.append(_END)
    elif isinstance(value, str | int | float | list | tuple | dict):
        _encode(_plain(value), out)  # subclasses (e.g. enums): encode as their base JSON type
    else:
        raise TypeError(f"not a JSON value: {value!r}")


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    base: Any
    for base in (bool, str, int, float, list, dict):
        if isinstance(value, base):
            return base(value)
    return list(value)  # a tuple subclass


_PACK_DOUBLE = struct.Struct(">d").pack
_UNPACK_DOUBLE = struct.Struct(">d").unpack
_UNPACK_U64 = struct.Struct(">Q").unpack
_PACK_U64 = struct.Struct(">Q").pack


def _number_bytes(number: float) -> bytes:
    """IEEE-754 big-endian, sign bit flipped for positives and all bits for negatives."""
    if number == 0:
        number = 0.0  # -0.0 and 0.0 are the same key
    (bits,) = _UNPACK_U64(_PACK_DOUBLE(number))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return _PACK_U64(bits)


def _string_bytes(text: str) -> bytes:
    """UTF-8 (whose byte order is code-point order); NUL escaped so the terminator stays lowest."""
    raw = text.encode("utf-8", "surrogatepass")
    if b"\x00" in raw:
        raw = raw.replace(b"\x00", b"\x00\xff")
    return raw + b"\x00\x00"


def _decode(data: bytes, at: int) -> tuple[Any, int]:
    tag = data[at : at + 1]
    at += 1
    if tag == _STRING:
        return _decode_string(data, at)
    if tag == _NUMBER:
        (bits,) = _UNPACK_U64(data[at : at + 8])
        bits = bits ^ (1 << 63) if bits >> 63 else bits ^ 0xFFFFFFFFFFFFFFFF
        (number,) = _UNPACK_DOUBLE(_PACK_U64(bits))
        if number.is_integer() and abs(number) < 2**53:
            return int(number), at + 8
        return number, at + 8
    if tag == _ARRAY:
        items = []
        while data[at : at + 1] != _END:
            item, at = _decode(data, at)
            items.append(item)
        return items, at + 1
    if tag == _NULL:
        return None, at
    if tag == _FALSE:
        return False, at
    if tag == _TRUE:
        return True, at
    if tag == _OBJECT:
        members = {}
        while data[at : at + 1] != _END:
            name, at = _decode_string(data, at)
            members[name], at = _decode(data, at)
        return members, at + 1
    raise ValueError(f"not a collation key tag: {tag!r}")


def _decode_string(data: bytes, at: int) -> tuple[str, int]:
    """Up to the terminator. Every NUL inside is escaped as `00 ff` and UTF-8 has no
    `ff` byte, so the first `00 00` is the terminator."""
    end = data.index(b"\x00\x00", at)
    raw = data[at:end]
    if b"\x00" in raw:
        raw = raw.replace(b"\x00\xff", b"\x00")
    return raw.decode("utf-8", "surrogatepass"), end + 2
