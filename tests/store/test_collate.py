"""CouchDB view collation as sortable bytes."""

from __future__ import annotations

import random

from reconciler.store.collate import MAX_KEY, compare, decode_key, sort_key

# In CouchDB's order (docs: "Views Collation", with strings by code point).
ORDERED = [
    None,
    False,
    True,
    -1e300,
    -2,
    -1.5,
    0,
    1,
    1.5,
    2,
    1e300,
    "",
    "A",
    "B",
    "a",
    "a\x00",
    "aa",
    "b",
    "ß",
    "€",
    [],
    [None],
    [False],
    [1],
    [1, None],
    [1, "a"],
    [2],
    ["a"],
    ["a", []],
    ["a", {}],
    ["b"],
    [[]],
    [{}],
    {},
    {"a": 1},
    {"a": 1, "b": 0},
    {"a": 2},
    {"b": 0},
]


def test_sort_key_orders_values_as_couchdb() -> None:
    shuffled = ORDERED[:]
    random.Random(7).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == ORDERED


def test_every_key_sorts_below_the_maximum() -> None:
    assert all(sort_key(value) < MAX_KEY for value in ORDERED)
    assert sort_key({"\U0010ffff": [{}]}) < MAX_KEY


def test_equal_numbers_are_equal_keys() -> None:
    assert compare(1, 1.0) == 0
    assert compare(0, -0.0) == 0
    assert compare([1, "x"], [1.0, "x"]) == 0
    assert compare(2, 10) == -1
    assert compare("10", "2") == -1  # strings are not numbers


def test_prefix_arrays_bound_their_extensions() -> None:
    """The range idiom startkey=[a], endkey=[a, {}] covers exactly the keys starting with a."""
    low, high = sort_key(["water"]), sort_key(["water", {}])
    inside = [["water"], ["water", None], ["water", "zzz", 9], ["water", [1]]]
    outside = [["wate"], ["water2"], ["waterz", 1], ["x"], "water"]
    assert all(low <= sort_key(k) <= high for k in inside)
    assert not any(low <= sort_key(k) <= high for k in outside)


def test_keys_decode_to_the_values_couchdb_returns() -> None:
    for value in ORDERED:
        assert decode_key(sort_key(value)) == value, value
    assert decode_key(sort_key(2.0)) == 2 and type(decode_key(sort_key(2.0))) is int
    assert decode_key(sort_key({"a": [1, "x\x00y"], "b": None})) == {"a": [1, "x\x00y"], "b": None}


def test_nul_and_lone_surrogates_round_trip_and_keep_strings_apart() -> None:
    odd = ["a\x00b", "a\ud800", "\udfff\x00", "a", "a\x00", "\x00\xff"]
    for value in odd:
        assert decode_key(sort_key(value)) == value
        assert decode_key(sort_key([value, 1])) == [value, 1]
    assert len({sort_key(value) for value in odd}) == len(odd)
    assert sort_key("a") < sort_key("a\x00") < sort_key("a\x00b") < sort_key("ab")


def test_flat_and_mixed_arrays_decode_alike() -> None:
    """Arrays of plain strings and numbers take a one-loop path; any other element (an
    escape, a nested array, null) takes the general one: both give the same values."""
    for value in ([], ["a"], ["a", 1, -2.5, "b"], [1e300, 0, "z"], ["a\x00b", 1], [[1], "a"],
                  ["a", None, True], ["a", {"b": [2]}], ["\ud800", 3], [2**60, "x"]):
        assert decode_key(sort_key(value)) == value, value
