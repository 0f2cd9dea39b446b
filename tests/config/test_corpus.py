"""Every example of the corpus gives exactly its expected diagnostics and exit code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.cli.app import run
from tests.config.corpus import Case, all_cases, validate_args

CASES = all_cases()
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings? in \d+ files?$")


def _validate(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    repo = case.build_repo(tmp_path)
    code = run([*validate_args(repo), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case_reports_exactly_the_expected_lines(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _validate(case, tmp_path, capsys)
    lines = out.splitlines()
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert lines[:-1] == case.expected_lines()
    assert "Traceback" not in out + err
    assert err == ""
    has_errors = any(": warning: " not in line for line in lines[:-1])
    assert has_errors is not case.valid
    assert code == (0 if case.valid else 1)


@pytest.mark.parametrize("case", [c for c in CASES if not c.valid][::7], ids=lambda c: c.id)
def test_json_output_carries_the_same_findings(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _validate(case, tmp_path, capsys, "--format", "json")
    assert code == 1
    findings = json.loads(out)
    assert [
        f"{f['file']}:{f['line']}:{f['column']}: "
        + ("warning: " if f["severity"] == "warning" else "")
        + f["message"]
        for f in findings
    ] == case.expected_lines()
    for finding in findings:
        assert set(finding) == {"file", "line", "column", "json_path", "severity", "message"}
        assert finding["json_path"].startswith("$")


def test_the_corpus_is_big_enough_and_every_invalid_case_says_something() -> None:
    invalid = [case for case in CASES if not case.valid]
    assert len(invalid) >= 40
    for case in CASES:
        assert case.expected_file.is_file(), f"{case.id} has no expected file beside it"
    for case in invalid:
        assert case.expected_lines(), f"{case.id} expects no message"
