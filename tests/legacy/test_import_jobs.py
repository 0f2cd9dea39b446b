"""`mcprod import-jobs`: the four legacy requests of the manual round-trip into valid campaigns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO_ROOT, run_mcprod

REQUESTS = Path(__file__).parent / "requests"
# request file -> campaign label; the second request's module label is the campaign label.
LABELS = {
    "teloaded-bipo212-rat5.json": "teloaded-bipo212-rat5",
    "WaterData_paper.json": "WaterData_paper",
    "water-bi214-runs.json": "water-bi214-runs",
    "water-n16-source.json": "water-n16-source",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with this project's RAT versions, sites and schemas, and no campaigns."""
    root = tmp_path / "repo"
    for folder in ("rat-versions", "sites", "schemas"):
        shutil.copytree(REPO_ROOT / folder, root / folder)
    (root / "campaigns").mkdir()
    return root


def import_jobs(request: Path, *args: str) -> tuple[int, str, str]:
    result = run_mcprod(["import-jobs", str(request), *args])
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def test_four_legacy_requests_round_trip_through_import_and_validate(repo: Path) -> None:
    for name, label in LABELS.items():
        code, out, err = import_jobs(REQUESTS / name, "--label", label, "--repo", str(repo))
        assert (code, err) == (0, "")
        assert out == f"wrote {repo / 'campaigns' / label}.yaml\n"
    validate = run_mcprod(["validate", "--repo", str(repo)])
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "Traceback" not in validate.stdout + validate.stderr
    assert "0 errors" in validate.stdout + validate.stderr
    for name, label in LABELS.items():
        written = (repo / "campaigns" / f"{label}.yaml").read_text()
        # the repository's campaigns/ are exactly what import-jobs makes of the requests
        assert written == (REPO_ROOT / "campaigns" / f"{label}.yaml").read_text()
        assert written.startswith(
            "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"
        )
        request = json.loads((REQUESTS / name).read_text())
        campaign = yaml.safe_load(written)
        assert campaign["label"] == label
        assert campaign["rat_version"] == request["rat_v"]
        assert f'rat_version: "{request["rat_v"]}"' in written
        expected_entries = [
            {k: v for k, v in entry.items() if k != "label"} for entry in request["modules"]
        ]
        assert campaign["modules"] == expected_entries


def test_the_second_request_keeps_its_module_label_as_the_campaign_label(repo: Path) -> None:
    code, _out, err = import_jobs(
        REQUESTS / "WaterData_paper.json", "--label", "water-paper", "--repo", str(repo)
    )
    assert code == 1
    assert err.splitlines() == [
        f"{REQUESTS / 'WaterData_paper.json'}:2:37: modules[0] (WaterPmt_Betagammas): label "
        "'WaterData_paper' differs from --label 'water-paper': split the request into one file "
        "per label and import each with its own --label",
        "import-jobs: 1 error; nothing written",
    ]
    assert list((repo / "campaigns").iterdir()) == []


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


BAD_REQUEST = (
    '{"rat_v": 6.18, "extra": 1, "modules": [\n'
    '  {"module": "WaterBi214", "n_ev": -10, "ev_per_run": 5, "label": "other", "n_ev": 3},\n'
    '  {"module": "WaterX", "t_run": 1, "t_format": "week", "n_runs": 2, "priorty": 3},\n'
    '  "oops",\n'
    '  {"module": "Bad name", "n_ev": 1e3, "ev_per_run": 1.5e2, "template": {"r": [1]}}\n'
    "]}\n"
)


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            '{"rat_v": "6.18.7", "modules": [\n  {"module": "X", "n_ev": 10,\n   "ev": 5,}\n]}',
            ["3:12: invalid JSON: Expecting property name enclosed in double quotes"],
        ),
        ("", ["1:1: invalid JSON: Expecting value"]),
        ("[]", ['1:1: expected a request object {"rat_v": ..., "modules": [...]}']),
        ('{"rat_v": "6.18.7", "modules": []}', ["1:21: modules: must not be empty"]),
        (
            '{"modules": {}}',
            ["1:1: missing required field 'rat_v' (the RAT version)",
             "1:2: modules: expected a list"],
        ),
        (
            '{"rat_v": "1", "modules": [{}]}',
            ["1:28: modules[0]: missing required field 'module'",
             "1:28: modules[0]: no event fields: give n_ev + ev_per_run or ev_per_run + n_runs "
             "(number mode), t_run + t_format + n_runs (time mode), run_numbers or runlist "
             "(run mode), or run_numbers or runlist with n_ev + ev_per_run (run_number mode)"],
        ),
        (
            BAD_REQUEST,
            [
                '1:2: rat_v: expected the version as a string such as "6.18.7", got 6.18',
                "1:17: unknown field 'extra': a request has only rat_v and modules",
                "2:58: modules[0] (WaterBi214): label 'other' differs from --label 'a': split the "
                "request into one file per label and import each with its own --label",
                "2:76: modules[0]: n_ev: duplicate key: keep only one",
                "3:36: modules[1] (WaterX): t_format: expected one of day, second, got 'week'",
                "3:69: modules[1] (WaterX): priorty: unknown field 'priorty' "
                "(did you mean 'priority'?)",
                '4:3: modules[2]: expected an object {"module": ...}',
                "5:4: modules[3] (Bad name): module: 'Bad name' is not valid: "
                "expected a module name (letters, digits, _ + -)",
                "5:73: modules[3] (Bad name): template.r: expected a number or a plain token "
                "(letters, digits, _ . : + -), got a list",
            ],
        ),
    ],
)
def test_bad_requests_are_reported_at_their_json_line_and_column(
    repo: Path, tmp_path: Path, text: str, messages: list[str]
) -> None:
    request = write(tmp_path, "jobs.json", text)
    code, out, err = import_jobs(request, "--label", "a", "--repo", str(repo))
    assert code == 1
    count = len(messages)
    assert err.splitlines() == [
        *(f"{request}:{m}" for m in messages),
        f"import-jobs: {count} error{'s' if count > 1 else ''}; nothing written",
    ]
    assert out == ""
    assert list((repo / "campaigns").iterdir()) == []


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"\xff{}", ["--label", "a"],
         "error: {request}:1:1: not UTF-8 text (byte 0xff): save the request as UTF-8"),
        (None, ["--label", "a"],
         "error: {request}: cannot read the request: No such file or directory"),
        (b"{}", ["--label", "a/b", "--ratdb-tag", "x y"],
         "error: --label 'a/b' is not valid: use 1-64 letters, digits, '_', '.' or '-', "
         "starting with a letter or digit; --ratdb-tag 'x y' is not valid: use letters, digits "
         "and '_', '.', ':', '+', '-' only"),
    ],
)
def test_unreadable_requests_and_bad_options(
    repo: Path, tmp_path: Path, content: bytes | None, args: list[str], message: str
) -> None:
    request = tmp_path / "jobs.json"
    if content is not None:
        request.write_bytes(content)
    code, _out, err = import_jobs(request, *args, "--repo", str(repo))
    assert code == 1
    assert err == message.format(request=request) + "\n"


def test_a_folder_as_the_request_is_a_usage_error(tmp_path: Path) -> None:
    code, _out, err = import_jobs(tmp_path, "--label", "a")
    assert code == 2
    assert "is a directory" in err


RUN_REQUEST = json.dumps({"rat_v": "6.18.7", "modules": [
    {"module": "WaterBi214Run", "n_runs": 1},
    {"module": "WaterN16sourceRun", "n_ev": 70000, "ev_per_run": 35000},
    {"module": "WaterBi214", "n_ev": 1e6, "ev_per_run": 1e5, "priority": 120.0},
    {"module": "WaterTl208Run", "run_numbers": [5]},
]}, indent=1)


def test_a_legacy_runlist_from_outside_is_copied_in_and_given_to_run_mode_entries(
    repo: Path, tmp_path: Path
) -> None:
    request = write(tmp_path, "jobs.json", RUN_REQUEST)
    runs = write(tmp_path, "water-2019.txt", "# water runs\n100151\n100152\n")
    code, out, err = import_jobs(
        request, "--label", "water-runs", "-L", str(runs), "-t", "water-2019-v1",
        "--repo", str(repo),
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"wrote {repo / 'runlists' / 'water-2019.txt'}",
        f"wrote {repo / 'campaigns' / 'water-runs.yaml'}",
    ]
    assert (repo / "runlists" / "water-2019.txt").read_text() == runs.read_text()
    assert (repo / "campaigns" / "water-runs.yaml").read_text() == (
        "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"
        "# Imported with `mcprod import-jobs` from the legacy request jobs.json.\n"
        "label: water-runs\n"
        'rat_version: "6.18.7"\n'
        "ratdb_tag: water-2019-v1\n"
        "modules:\n"
        "  - module: WaterBi214Run\n"
        "    n_runs: 1\n"
        "    runlist: runlists/water-2019.txt\n"
        "  - module: WaterN16sourceRun\n"
        "    n_ev: 70000\n"
        "    ev_per_run: 35000\n"
        "    runlist: runlists/water-2019.txt\n"
        "  - module: WaterBi214\n"
        "    n_ev: 1000000\n"
        "    ev_per_run: 100000\n"
        "    priority: 120\n"
        "  - module: WaterTl208Run\n"
        "    run_numbers: [5]\n"
    )
    # The tag reaches RAT only in the form its version's file declares (no guessing):
    # without it, validate refuses the tagged campaign, naming both files.
    refused = run_mcprod(["validate", "--repo", str(repo)])
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[0] == (
        "campaigns/water-runs.yaml:5:1: ratdb_tag: rat-versions/6.18.7.yaml declares no way to"
        " give RAT 6.18.7 a RATDB tag: add `ratdb: {tag_args: [...]}` there (the release's"
        " option, with {tag}), or remove ratdb_tag"
    )
    version = repo / "rat-versions" / "6.18.7.yaml"
    tag_args = 'ratdb: {tag_args: ["--standin-ratdb-tag", "{tag}"]}\n'
    version.write_text(version.read_text() + tag_args)
    validate = run_mcprod(["validate", "--repo", str(repo)])
    assert validate.returncode == 0, validate.stdout + validate.stderr

    # A list already inside the repository is referenced, not copied.
    code, out, err = import_jobs(
        request, "--label", "water-runs", "-L", str(repo / "runlists" / "water-2019.txt"),
        "--repo", str(repo), "-o", str(tmp_path / "out.yaml"),
    )
    assert (code, err) == (0, "")
    assert out == f"wrote {tmp_path / 'out.yaml'}\n"
    assert (tmp_path / "out.yaml").read_text().count("runlist: runlists/water-2019.txt") == 2


@pytest.mark.parametrize(
    ("runs_text", "request_text", "message"),
    [
        ("1\nx\n1\n", RUN_REQUEST,
         "error: {runs}:2:1: expected a positive run number, got 'x' (and 1 more)"),
        ("# nothing\n", RUN_REQUEST, "error: {runs}: holds no run numbers"),
        ("7\n", '{"rat_v": "6.18.7", "modules": [{"module": "WaterBi214", "n_runs": 2}]}',
         "{request}:1:21: --runlist: no entry takes a run list (run-mode modules end in Run "
         "and give no run_numbers of their own)"),
    ],
)
def test_bad_runlists_write_nothing(
    repo: Path, tmp_path: Path, runs_text: str, request_text: str, message: str
) -> None:
    request = write(tmp_path, "jobs.json", request_text)
    runs = write(tmp_path, "runs.txt", runs_text)
    code, _out, err = import_jobs(request, "--label", "a", "-L", str(runs), "--repo", str(repo))
    assert code == 1
    assert err.splitlines()[0] == message.format(runs=runs, request=request)
    assert not (repo / "runlists").exists()
    assert list((repo / "campaigns").iterdir()) == []


def test_existing_files_are_kept_unless_forced(repo: Path, tmp_path: Path) -> None:
    request = REQUESTS / "water-bi214-runs.json"
    target = repo / "campaigns" / "water-bi214-runs.yaml"
    target.write_text("hand edits\n")
    code, _out, err = import_jobs(request, "--label", "water-bi214-runs", "--repo", str(repo))
    assert code == 1
    assert err == f"error: {target} already exists: pass --force to overwrite it\n"
    assert target.read_text() == "hand edits\n"
    (repo / "runlists").mkdir()
    (repo / "runlists" / "runs.txt").write_text("1\n")
    runs = write(tmp_path, "runs.txt", "2\n")
    code, _out, err = import_jobs(
        REQUESTS / "water-n16-source.json", "--label", "n16", "-L", str(runs), "--repo", str(repo)
    )
    assert code == 1
    assert err == (
        f"error: {repo / 'runlists' / 'runs.txt'} already exists with other runs: "
        "rename the run list or pass --force\n"
    )
    code, _out, err = import_jobs(
        request, "--label", "water-bi214-runs", "--repo", str(repo), "--force"
    )
    assert (code, err) == (0, "")
    assert target.read_text() == (REPO_ROOT / "campaigns" / "water-bi214-runs.yaml").read_text()
