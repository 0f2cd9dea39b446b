"""`mcprod generate` on the fixture releases, through the real CLI."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.catalogue.expected import EXPECTED_MODULES
from tests.helpers import REPO_ROOT, run_mcprod

FIXTURES = REPO_ROOT / "tests" / "fixtures"
RELEASE = FIXTURES / "rat-release"
BROKEN = FIXTURES / "rat-release-broken"


def generate(
    *args: str, release: Path = RELEASE, version: str = "9.9.0"
) -> subprocess.CompletedProcess[str]:
    result = run_mcprod(
        ["generate", "--rat-version", version, "--rat-root", str(release),
         "--repo", str(FIXTURES), *args]
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result


def test_fixture_release_has_the_expected_catalogue_field_by_field(tmp_path: Path) -> None:
    result = generate("--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    document = json.loads((tmp_path / "production_information_9_9_0.json").read_text())
    assert sorted(document) == ["content_hash", "modules", "rat_version"]
    assert document["rat_version"] == "9.9.0"
    modules = document["modules"]
    assert sorted(modules) == sorted(EXPECTED_MODULES)
    for name, expected in EXPECTED_MODULES.items():
        for field_name in ("event_mode", "path", "outputs", "template"):
            assert modules[name][field_name] == expected[field_name], (name, field_name)
        assert modules[name].get("other_suffix") == expected.get("other_suffix"), name
        assert sorted(modules[name]) == sorted(expected), name
    compact = json.dumps(modules, sort_keys=True, separators=(",", ":"))
    assert document["content_hash"] == hashlib.sha256(compact.encode()).hexdigest()
    assert result.stdout == f"wrote {tmp_path / 'production_information_9_9_0.json'}\n"


def test_stdout_json_is_the_same_bytes_as_the_written_file(tmp_path: Path) -> None:
    printed = generate()
    written = generate("--out", str(tmp_path))
    assert printed.returncode == written.returncode == 0
    assert printed.stdout == (tmp_path / "production_information_9_9_0.json").read_text()
    assert printed.stdout.endswith("}\n")
    # canonical: sorted keys at every level
    document = json.loads(printed.stdout)
    assert printed.stdout == json.dumps(document, sort_keys=True, indent=2) + "\n"


def test_legacy_py_is_importable_and_equal_to_the_json_modules(tmp_path: Path) -> None:
    result = generate("--out", str(tmp_path), "--legacy-py")
    assert result.returncode == 0, result.stderr
    py_file = tmp_path / "production_information_9_9_0.py"
    spec = importlib.util.spec_from_file_location("production_information_9_9_0", py_file)
    assert spec is not None and spec.loader is not None
    legacy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(legacy)
    document = json.loads((tmp_path / "production_information_9_9_0.json").read_text())
    assert legacy.production_modules == document["modules"]
    assert legacy.content_hash == document["content_hash"]
    assert legacy.rat_version == "9.9.0"


def _copy_shuffled(source: Path, target: Path, seed: int) -> None:
    """Recreate `source` under `target`, creating folders and files in a random order."""
    files = [p for p in source.rglob("*") if p.is_file()]
    random.Random(seed).shuffle(files)
    for path in files:
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


def test_generate_is_byte_identical_whatever_the_creation_order(tmp_path: Path) -> None:
    outputs = []
    for seed in (1, 2):
        copy = tmp_path / f"copy{seed}"
        _copy_shuffled(RELEASE, copy, seed)
        result = generate("--out", str(tmp_path / f"out{seed}"), "--legacy-py", release=copy)
        assert result.returncode == 0, result.stderr
        outputs.append(
            [(tmp_path / f"out{seed}" / f"production_information_9_9_0.{ext}").read_bytes()
             for ext in ("json", "py")]
        )
    assert outputs[0] == outputs[1]
    assert outputs[0][0] == generate().stdout.encode()


BROKEN_MESSAGES = [
    "rat-release-broken/mac/production/water/binary.mac:2:8: "
    "macro is not UTF-8 text (NUL byte); fix or remove the file",
    "rat-release-broken/mac/production/water/dangling.mac:1:1: "
    "cannot read macro: broken symbolic link to missing-target.mac",
    "rat-release-broken/mac/production/water/latin1.mac:3:6: "
    "macro is not UTF-8 text (byte 0xe9); fix or remove the file",
    "rat-release-broken/mac/production/water/no_output.mac:1:1: warning: module WaterNo_Output "
    "declares no output (no /rat/proc outroot or outntuple): its jobs would store nothing",
    "rat-release-broken/mac/production/water/sub/x.mac:1:1: module name WaterSubX is also "
    "produced by rat-release-broken/mac/production/water/Sub/x.mac; rename one of the two macros",
    "rat-release-broken/mac/production/water_extra/Bi214.mac:1:1: module name WaterBi214 is "
    "also produced by rat-release-broken/mac/production/water/Bi214.mac; "
    "rename one of the two macros",
    "rat-versions/9.9.1.yaml:8:3: phases.scint: macro folder mac/production/scint "
    "does not exist in the release rat-release-broken",
    "rat-versions/9.9.1.yaml:9:3: phases.teloaded: macro folder mac/production/teloaded "
    "is not a folder in the release rat-release-broken",
    "rat-versions/9.9.1.yaml:11:3: overrides.WaterBi214Run: no macro of the release produces "
    "this module (did you mean WaterBi214?)",
    "rat-versions/9.9.1.yaml:12:3: overrides.ScintAmBe: no macro of the release produces "
    "this module",
    "generate: 9 errors in RAT 9.9.1; nothing written",
]


def test_every_error_of_the_broken_release_is_reported_together(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = generate("--out", str(out), "--legacy-py", release=BROKEN, version="9.9.1")
    assert result.returncode == 1
    assert result.stderr.splitlines() == BROKEN_MESSAGES
    assert result.stdout == ""
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--rat-version", "1.2.3", "--rat-root", str(RELEASE), "--repo", str(FIXTURES)], 1,
         f"error: rat-versions/1.2.3.yaml: no such file in {FIXTURES}; "
         "declare the RAT version first"),
        (["--rat-version", "9.9.0", "--rat-root", str(RELEASE), "--repo", str(FIXTURES),
          "--legacy-py"], 2, "--legacy-py writes a file: give --out DIR"),
        (["--rat-version", "9.9.0", "--repo", str(FIXTURES)], 1,
         "error: no RAT release found beside /cvmfs/snoplus.egi.eu/sl7/sw/9.9.0/"
         "env_rat-9.9.0.sh (from rat-versions/9.9.0.yaml): "
         "give the release folder with --rat-root DIR"),
        (["--rat-version", "9.9.0", "--rat-root", str(RELEASE / "nowhere")], 2,
         "does not exist"),
    ],
)
def test_bad_invocations_say_what_to_fix(args: list[str], code: int, message: str) -> None:
    result = run_mcprod(["generate", *args])
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_release_root_defaults_to_the_folder_of_the_env_script(tmp_path: Path) -> None:
    release = tmp_path / "sw" / "9.9.0" / "rat-9.9.0"
    shutil.copytree(RELEASE, release)
    repo = tmp_path / "repo"
    (repo / "rat-versions").mkdir(parents=True)
    text = (FIXTURES / "rat-versions" / "9.9.0.yaml").read_text()
    env = tmp_path / "sw" / "9.9.0" / "env_rat-9.9.0.sh"
    text = text.replace("/cvmfs/snoplus.egi.eu/sl7/sw/9.9.0/env_rat-9.9.0.sh", str(env))
    (repo / "rat-versions" / "9.9.0.yaml").write_text(text)
    result = run_mcprod(["generate", "--rat-version", "9.9.0", "--repo", str(repo)])
    assert result.returncode == 0, result.stderr
    assert result.stdout == generate().stdout


def test_an_invalid_rat_version_file_is_reported_with_positions(tmp_path: Path) -> None:
    versions = tmp_path / "rat-versions"
    versions.mkdir()
    (versions / "9.9.0.yaml").write_text(
        'version: "9.9.0"\nenv: relative/env.sh\nphases:\n  water: {dir: /abs, prefix: Water}\n'
    )
    (versions / "9.9.2.yaml").write_text('version: "9.9.1"\nenv: /x/env.sh\n')
    out = tmp_path / "out"
    first = run_mcprod(["generate", "--rat-version", "9.9.0", "--repo", str(tmp_path),
                        "--rat-root", str(RELEASE), "--out", str(out)])
    assert first.returncode == 1
    assert first.stderr.splitlines() == [
        "rat-versions/9.9.0.yaml:2:1: env: 'relative/env.sh' is not valid: "
        "expected an absolute path",
        "rat-versions/9.9.0.yaml:4:11: phases.water.dir: '/abs' is not valid: "
        "expected a folder relative to the release root",
        "generate: 2 errors in rat-versions/9.9.0.yaml; nothing written",
    ]
    second = run_mcprod(["generate", "--rat-version", "9.9.2", "--repo", str(tmp_path),
                         "--rat-root", str(RELEASE), "--out", str(out)])
    assert second.returncode == 1
    assert second.stderr.splitlines() == [
        "rat-versions/9.9.2.yaml:1:1: version: '9.9.1' does not match the file name 9.9.2.yaml",
        "generate: 1 error in rat-versions/9.9.2.yaml; nothing written",
    ]
    assert not out.exists()
