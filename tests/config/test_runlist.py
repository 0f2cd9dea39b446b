"""Run list parsing: the bulk path and the careful path agree."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.config.runlist import parse_run_list, parse_run_list_by_line


def test_comments_blank_lines_and_spaces_are_allowed() -> None:
    text = "# water 2019\n\n100151\n  100152  # rerun\n\t\n100153"
    assert parse_run_list(text) == ((100151, 100152, 100153), [])


def test_every_bad_line_is_named() -> None:
    runs, problems = parse_run_list("5\nx5\n5\n0\n6 7\n-3\n")
    assert runs == (5,)
    assert [(p.line, p.column, p.message) for p in problems] == [
        (2, 1, "expected a positive run number, got 'x5'"),
        (3, 1, "run 5 is listed twice (first at line 1)"),
        (4, 1, "run number 0 is out of range (1 to 10^9)"),
        (5, 1, "expected one run number per line, got '6 7'"),
        (6, 1, "expected a positive run number, got '-3'"),
    ]


lines = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=30).map(str),
        st.sampled_from(["", "# note", " 7 ", "7 8", "x", "\u0663"]),
    ),
    max_size=12,
)


@settings(deadline=None)  # timing on a shared machine is not the point here
@given(lines, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_the_fast_path_changes_nothing(items: list[str], newline: str, trailing: bool) -> None:
    text = newline.join(items) + (newline if trailing else "")
    assert parse_run_list(text) == parse_run_list_by_line(text)
