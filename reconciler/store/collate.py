"""CouchDB view collation as a sortable string.

`sort_text(value)` maps a JSON value to a string whose plain code-point order (as
SQLite compares TEXT: memcmp of UTF-8, which is code-point order) is CouchDB's view
order:
null < false < true < numbers < strings < arrays < objects; arrays element by
element, a shorter prefix first; objects member by member (name, then value).
Because the strings sort natively, the SQLite store keeps an index on them and answers
key ranges with plain SQL comparisons. Strings rather than bytes: Python's sqlite3 binds
a `str` on a fast path but a `bytes` or `None` through its adapter lookup, which made
the view columns cost more than the document itself. An element is a type tag and its
payload: a number's 8 sortable bytes as Latin-1 characters; a string's characters (NUL
escaped) and a terminator. `sort_key` is the UTF-8 of `sort_text`, the same order as
bytes (memcmp of UTF-8 is code-point order).

Strings compare by Unicode code point, as pouchdb-server (the test server) does.
Real CouchDB uses ICU collation, which differs for mixed case and punctuation
("a" < "B" there); the views' keys (statuses, module names, ISO times, labels) are
compared for grouping and ranges, where both orders agree on what matters.
"""

from __future__ import annotations

import enum
import functools
import re
import struct
from typing import Any

_NULL = "\x01"
_FALSE = "\x02"
_TRUE = "\x03"
_NUMBER = "\x04"
_STRING = "\x05"
_ARRAY = "\x06"
_OBJECT = "\x07"
_END = "\x00"  # ends strings, arrays and objects; lower than every type tag
_STRING_END = "\x00\x00"

# Above every key: the first character of any key is a type tag, and this is past the last.
MAX_TEXT = "\x08"
MAX_KEY = MAX_TEXT.encode("utf-8")


def sort_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _STRING + string_text(value)
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def sort_key(value: Any) -> bytes:
    """`sort_text` as bytes, ordered by memcmp."""
    return sort_text(value).encode("utf-8", "surrogatepass")


def decode_text(text: str) -> Any:
    """The JSON value of a `sort_text` string, as CouchDB returns a key: numbers are
    doubles in JavaScript, so an integral number comes back as an int (2.0 emits 2)."""
    tag = text[:1]
    if tag == _STRING and text.find("\x00") == len(text) - 2:
        return text[1:-2]  # a string with no escape in it: most view values
    if tag == _ARRAY:
        return _decode_flat_array(text)  # a new list each time: callers may change it
    if tag == _OBJECT:
        return _decode_whole(text)
    return _decode_scalar(text)


def _number_at(text: str, at: int) -> int | float:
    """The number whose 8 characters start at `at` (see `number_text`)."""
    (bits,) = _UNPACK_U64(text[at : at + 8].encode("latin-1"))
    bits = bits ^ (1 << 63) if bits >> 63 else bits ^ 0xFFFFFFFFFFFFFFFF
    number: float = _UNPACK_DOUBLE(_PACK_U64(bits))[0]
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number


def _decode_flat_array(text: str) -> Any:
    """An array of unescaped strings and numbers (most view keys) in one loop; anything
    else goes through the general decoder."""
    items: list[Any] = []
    at, last = 1, len(text) - 1
    while at < last:
        tag = text[at]
        if tag == _STRING:
            end = text.find(_STRING_END, at + 1)
            if end < 0 or "\x00" in text[at + 1 : end]:
                return _decode_whole(text)
            items.append(text[at + 1 : end])
            at = end + 2
        elif tag == _NUMBER and at + 9 <= last:
            items.append(_number_at(text, at + 1))
            at += 9
        else:
            return _decode_whole(text)
    if at != last or text[last] != _END:
        return _decode_whole(text)
    return items


def _decode_whole(text: str) -> Any:
    value, end = _decode(text, 0)
    if end != len(text):
        raise ValueError("trailing characters after a collation key")
    return value


# Numbers, null and booleans repeat across a view's rows (attempt 1, null work folders)
# and decode to immutable values, so they are remembered.
_decode_scalar = functools.lru_cache(maxsize=4096)(_decode_whole)


def decode_key(data: bytes) -> Any:
    return decode_text(data.decode("utf-8", "surrogatepass"))


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 as CouchDB would order the two keys."""
    ka, kb = sort_text(a), sort_text(b)
    return (ka > kb) - (ka < kb)


def _encode(value: Any, out: list[str]) -> None:
    # Exact type checks, most frequent first: this runs for every element of every key.
    kind = type(value)
    if kind is str:
        out.append(_STRING + string_text(value))
    elif kind is int or kind is float:
        out.append(_NUMBER + number_text(float(value)))
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
            out.append(string_text(str(name)))
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


def number_text(number: float) -> str:
    """IEEE-754 big-endian, sign bit flipped for positives and all bits for negatives,
    as 8 Latin-1 characters."""
    if number == 0:
        number = 0.0  # -0.0 and 0.0 are the same key
    (bits,) = _UNPACK_U64(_PACK_DOUBLE(number))
    bits = bits ^ 0xFFFFFFFFFFFFFFFF if bits >> 63 else bits | (1 << 63)
    return _PACK_U64(bits).decode("latin-1")


def string_text(text: str) -> str:
    """The string and its terminator. NUL is escaped (NUL, U+00FF) so the terminator stays
    lowest; so is a lone surrogate (NUL, U+0100 + its offset in the surrogate block):
    valid in JSON, it cannot be stored as UTF-8. Both escapes decode back exactly."""
    if "\x00" in text:
        text = text.replace("\x00", "\x00\xff")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = _SURROGATE.sub(_escape_surrogate, text)
    return text + _STRING_END


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("\x00([\xff\u0100-\u08ff])")


def _escape_surrogate(match: re.Match[str]) -> str:
    return "\x00" + chr(0x100 + ord(match.group()) - 0xD800)


def _unescape(match: re.Match[str]) -> str:
    code = ord(match.group(1))
    return "\x00" if code == 0xFF else chr(0xD800 + code - 0x100)


def _decode(text: str, at: int) -> tuple[Any, int]:
    tag = text[at : at + 1]
    at += 1
    if tag == _STRING:
        return _decode_string(text, at)
    if tag == _NUMBER:
        return _number_at(text, at), at + 8
    if tag == _ARRAY:
        items = []
        while text[at : at + 1] != _END:
            item, at = _decode(text, at)
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
        while text[at : at + 1] != _END:
            name, at = _decode_string(text, at)
            members[name], at = _decode(text, at)
        return members, at + 1
    raise ValueError(f"not a collation key tag: {tag!r}")


def _decode_string(text: str, at: int) -> tuple[str, int]:
    """Up to the terminator. Every NUL inside starts an escape (see `string_text`) whose
    second character is not NUL, so the first two NULs in a row are the terminator."""
    end = text.index(_STRING_END, at)
    raw = text[at:end]
    if "\x00" in raw:
        raw = _ESCAPED.sub(_unescape, raw)
    return raw, end + 2
