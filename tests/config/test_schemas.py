"""The schemas: one source of truth, documented, and in agreement with the entry rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.entries import classify_entry
from reconciler.config.schema import (
    _PATTERN_HINTS,
    KINDS,
    Kind,
    fast_says_valid,
    is_valid,
    validator,
)
from reconciler.config.yamlsource import read_yaml_file
from tests.config.corpus import all_cases
from tests.helpers import REPO_ROOT

PACKAGE_SCHEMAS = REPO_ROOT / "reconciler" / "schemas"
ROOT_SCHEMAS = REPO_ROOT / "schemas"


def test_the_repository_copies_equal_the_package_schemas() -> None:
    for kind in KINDS:
        name = f"{kind}.schema.json"
        assert (ROOT_SCHEMAS / name).read_bytes() == (PACKAGE_SCHEMAS / name).read_bytes()
    assert sorted(p.name for p in ROOT_SCHEMAS.glob("*.json")) == sorted(
        p.name for p in PACKAGE_SCHEMAS.glob("*.json")
    )


def _undescribed(schema: Any, where: str) -> list[str]:
    missing = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            if "description" not in sub:
                missing.append(f"{where}.{name}")
        for key, sub in schema.items():
            missing += _undescribed(sub, f"{where}.{key}")
    elif isinstance(schema, list):
        for index, sub in enumerate(schema):
            missing += _undescribed(sub, f"{where}[{index}]")
    return missing


def test_every_property_has_a_description() -> None:
    for kind in KINDS:
        schema = json.loads((PACKAGE_SCHEMAS / f"{kind}.schema.json").read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert _undescribed(schema, kind) == []


def test_every_repository_yaml_names_its_schema_on_the_first_line() -> None:
    folders = {"campaigns": "campaign", "rat-versions": "rat-version", "sites": "site"}
    seen = 0
    for folder, kind in folders.items():
        for path in sorted((REPO_ROOT / folder).glob("*.yaml")):
            first = path.read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# yaml-language-server: $schema=../schemas/{kind}.schema.json", path
            seen += 1
    assert seen >= 7


ENTRY_VALUES: dict[str, Any] = {
    "n_ev": 1000,
    "ev_per_run": 100,
    "t_run": 365,
    "t_format": "day",
    "n_runs": 3,
    "run_numbers": [100151],
    "runlist": "runlists/water.txt",
}


@settings(deadline=None)  # timing on a shared machine is not the point here
@given(st.sets(st.sampled_from(sorted(ENTRY_VALUES))))
def test_schema_and_entry_classification_agree(fields: set[str]) -> None:
    """The oneOf of the schema and the Python rules accept exactly the same shapes."""
    entry: dict[str, Any] = {"module": "WaterBi214Run"}
    entry.update({name: ENTRY_VALUES[name] for name in fields})
    campaign = {"label": "x", "rat_version": "1.0.0", "modules": [entry]}
    schema_ok = not list(validator("campaign").iter_errors(campaign))
    assert is_valid("campaign", campaign) == schema_ok
    mode, problem = classify_entry(entry)
    assert schema_ok == (mode is not None)
    assert (problem is None) == (mode is not None)


def test_package_schemas_load_through_importlib_resources() -> None:
    for kind in KINDS:
        assert validator(kind).schema["title"].startswith("mcprod")
    assert Path(PACKAGE_SCHEMAS / "campaign.schema.json").is_file()


def test_the_compiled_validator_agrees_with_jsonschema_on_the_corpus() -> None:
    """The fast path may only say "valid" where jsonschema finds nothing to report."""
    compared = 0
    for case in all_cases():
        if case.source.is_dir():
            continue
        kind: Kind = "campaign" if case.kind == "yaml" else case.kind  # type: ignore[assignment]
        doc, _ = read_yaml_file(case.source, "a mapping")
        if doc is None:
            continue
        expected = not list(validator(kind).iter_errors(doc.data))
        assert fast_says_valid(kind, doc) == expected, case.id
        compared += 1
    assert compared >= 60


def _patterns(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found.add(schema["pattern"])
        for sub in schema.values():
            found |= _patterns(sub)
    elif isinstance(schema, list):
        for sub in schema:
            found |= _patterns(sub)
    return found


def test_every_pattern_has_words_for_its_error_message() -> None:
    """No message ever shows a raw regular expression to the user."""
    for kind in KINDS:
        schema = json.loads((PACKAGE_SCHEMAS / f"{kind}.schema.json").read_text())
        assert _patterns(schema) - set(_PATTERN_HINTS) == set(), kind
