"""What the SQLite store keeps of a document: its JSON without `_rev`, however the
document's members are ordered and whatever they hold."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.store.sqlite import _ASCII_ENCODER, _ENCODER, _body_json

DOCS: list[dict[str, Any]] = [
    {"_id": "a", "_rev": "1-x", "b": 1},
    {"_id": "a", "_rev": "1-x"},
    {"_rev": "1-x", "_id": "a", "b": [1]},  # _rev first: not the order a read gives
    {"_id": "a\u00e9\"\\", "_rev": "2-\ud800", "z": {"_rev": 1}, "_revs": 2},
    {"_id": "a", "b": 2, "_rev": "3-y"},
    {"_id": "a", "b": 2},
]


@pytest.mark.parametrize("doc", DOCS)
def test_the_stored_json_is_the_document_without_its_revision(doc: dict[str, Any]) -> None:
    for encode in (_ENCODER.encode, _ASCII_ENCODER.encode):
        text = _body_json(doc, encode)
        assert json.loads(text) == {k: v for k, v in doc.items() if k != "_rev"}
        assert text == encode({k: v for k, v in doc.items() if k != "_rev"})
