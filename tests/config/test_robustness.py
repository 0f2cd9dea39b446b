"""Whatever is in the files, validate reports problems; it never raises."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.config.load import validate_repository
from reconciler.config.schema import KINDS, Kind, schema_problems
from reconciler.config.yamlsource import parse_yaml_text
from tests.config.corpus import BASE

YAML_PIECES = st.sampled_from(
    [
        *"abc019 :-[]{},#&*!|>'\"%@`\t\n.?<=~",
        "\n  ",
        "- ",
        "<<: ",
        "---\n",
        "\u00e9",
        "\x00",
        "!!int ",
        "!!float ",
        "!!binary ",
        "!!python/object:os.system ",
        "!x ",
        "2019-13-45",
        "12:61",
        "0x1F",
        "1e400",
        "on: !!int\n",
        '"a\\nb": ',
        "&r [*r]",
        "&m {k: *m}",
        "*r",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    ]
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**13), max_value=10**13),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "label",
                    "rat_version",
                    "modules",
                    "module",
                    "n_ev",
                    "ev_per_run",
                    "template",
                    "run_numbers",
                    "runlist",
                    "name",
                    "backend",
                    "type",
                    "rat_locations",
                    "version",
                    "env",
                    "phases",
                    "storage",
                    "base_url",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(YAML_PIECES, max_size=40))
def test_any_text_parses_or_gives_problems(pieces: list[str]) -> None:
    text = "".join(pieces)
    doc, problems = parse_yaml_text(text, "a mapping")
    assert doc is not None or problems
    for problem in problems:
        assert problem.line >= 1 and problem.column >= 1 and problem.message
        assert "\n" not in problem.message


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(KINDS), st.dictionaries(st.text(max_size=6), json_like, max_size=6))
def test_any_data_gets_messages_not_exceptions(kind: Kind, data: dict[str, Any]) -> None:
    doc, _ = parse_yaml_text(yaml.safe_dump(data), "a mapping")
    assert doc is not None
    for location, pointer, message in schema_problems(kind, doc):
        assert pointer.startswith("$")
        assert message and "\n" not in message
        doc.mark(location)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(json_like)
def test_any_campaign_file_is_validated_without_raising(tmp_path: Path, modules: Any) -> None:
    repo = tmp_path / "repo"
    if not repo.exists():
        shutil.copytree(BASE, repo)
        (repo / "campaigns").mkdir()
    data = {"label": "fuzz", "rat_version": "1.0.0", "modules": modules}
    (repo / "campaigns" / "fuzz.yaml").write_text(yaml.safe_dump(data))
    result = validate_repository(repo)
    assert all(d.file and d.line >= 1 for d in result.diagnostics)
