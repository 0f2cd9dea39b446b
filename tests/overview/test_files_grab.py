"""`mcprod files` and `mcprod grab` on the finished quickstart production."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import zlib
from pathlib import Path

from reconciler.store.open import open_store
from tests.helpers import REPO_ROOT, run_mcprod
from tests.overview.production import Production

LABEL = "quickstart-demo"
ALL_FILES = 5 * 2 + 2 * 2 + 3 + 2  # ratds+ntuple, ratds+ntuple, ntuple only, ratds only


def _listed(production: Production, *extra: str) -> list[dict[str, object]]:
    done = run_mcprod(["files", LABEL, "--format", "json", "--repo", str(production.root),
                       *extra])
    assert done.returncode == 0, done.stderr
    listed: list[dict[str, object]] = json.loads(done.stdout)
    return listed


def test_files_lists_every_output_with_its_fields(production: Production) -> None:
    listed = _listed(production)
    assert len(listed) == ALL_FILES
    first = listed[0]
    assert sorted(first) == ["adler32", "data_type", "job_id", "module", "name", "pass",
                             "run", "size", "sub_run", "url"]
    for entry in listed:
        path = Path(str(entry["url"]).removeprefix("file://"))
        data = path.read_bytes()
        assert (len(data), f"{zlib.adler32(data):08x}") == (entry["size"], entry["adler32"])
    urls = run_mcprod(["files", LABEL, "--format", "urls", "--repo", str(production.root)])
    assert urls.stdout.splitlines() == [str(e["url"]) for e in listed]
    text = run_mcprod(["files", LABEL, "--repo", str(production.root)]).stdout.splitlines()
    assert text[0].split() == ["name", "size", "adler32", "module", "run", "sub", "pass", "url"]
    assert text[-1].startswith(f"{ALL_FILES} files, ")


def test_files_filters(production: Production) -> None:
    assert {e["module"] for e in _listed(production, "--module", "Water*Run")} == {
        "WaterBi214Run"
    }
    ntuples = _listed(production, "--ntuple-only")
    assert len(ntuples) == 5 + 2 + 3
    assert all(str(e["name"]).endswith(".ntuple.root") for e in ntuples)
    assert [e["run"] for e in _listed(production, "--module", "WaterBi214", "--runs", "1-2",
                                      "--ntuple-only")] == [1, 2]
    assert len(_listed(production, "--pass", "latest")) == ALL_FILES
    assert _listed(production, "--pass", "2") == []
    bad = run_mcprod(["files", LABEL, "--pass", "newest", "--repo", str(production.root)])
    assert (bad.returncode, bad.stderr) == (
        1, "error: --pass 'newest': expected latest or a pass number\n"
    )


def test_files_of_an_unknown_label(production: Production) -> None:
    done = run_mcprod(["files", "nope", "--repo", str(production.root)])
    assert (done.returncode, done.stderr) == (
        1, f"error: no outputs of label nope in {production.db}\n"
    )


def test_grab_fetches_verifies_resumes_and_replaces(production: Production,
                                                    tmp_path: Path) -> None:
    dest = tmp_path / "fetched"
    first = run_mcprod(["grab", LABEL, str(dest), "-j", "3", "--repo", str(production.root)])
    assert (first.returncode, first.stderr) == (0, "")  # no progress bar on a pipe
    assert first.stdout.startswith(f"grab {LABEL}: {ALL_FILES} files, copied {ALL_FILES} (")
    assert first.stdout.endswith(f"already present 0, failed 0 -> {dest}\n")
    fetched = sorted(dest.rglob("*.root"))
    assert len(fetched) == ALL_FILES
    for entry in _listed(production):
        local = dest / str(entry["module"]) / str(entry["name"])
        source = Path(str(entry["url"]).removeprefix("file://"))
        assert local.read_bytes() == source.read_bytes()
    assert not list(dest.rglob(".*.part"))

    again = run_mcprod(["grab", LABEL, str(dest), "--repo", str(production.root)])
    assert again.stdout == (f"grab {LABEL}: {ALL_FILES} files, copied 0 (0 B), already present"
                            f" {ALL_FILES}, failed 0 -> {dest}\n")

    corrupted = fetched[0]
    good = corrupted.read_bytes()
    corrupted.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # same size, other checksum
    repaired = run_mcprod(["grab", LABEL, str(dest), "--repo", str(production.root)])
    assert "copied 1 (" in repaired.stdout
    assert f"already present {ALL_FILES - 1}," in repaired.stdout
    assert corrupted.read_bytes() == good


def test_grab_lists_an_unreachable_url_and_exits_1(fresh_copy: Production,
                                                   tmp_path: Path) -> None:
    store = open_store(None, fresh_copy.root)
    try:
        row = store.view("mcprod/data_by_label", startkey=[LABEL, "ScintSolar_Nue"],
                         endkey=[LABEL, "ScintSolar_Nue", {}], include_docs=True)[0]
        doc = row.doc
        assert doc is not None
        gone = str(doc["files"][0]["url"]).replace("/storage/", "/nowhere/")
        doc["files"][0]["url"] = gone
        store.update(doc)
    finally:
        store.close()
    dest = tmp_path / "fetched"
    done = run_mcprod(["grab", LABEL, str(dest), "--module", "ScintSolar_Nue",
                       "--repo", str(fresh_copy.root)])
    assert done.returncode == 1
    assert done.stdout == f"grab {LABEL}: 3 files, copied 2 (" + done.stdout.split("(", 1)[1]
    assert done.stderr.splitlines() == [
        f"failed: {gone}: cannot copy: No such file or directory",
        f"error: grab {LABEL}: 1 files not fetched (listed above)",
    ]
    assert len(list(dest.rglob("*.root"))) == 2


def test_grab_with_gfal_copy(production: Production, tmp_path: Path) -> None:
    dest = tmp_path / "by-gfal"
    done = run_mcprod(["grab", LABEL, str(dest), "--gfal", "--module", "WaterBi214Run",
                       "--repo", str(production.root)])
    assert done.returncode == 0, done.stderr
    assert "copied 2 (" in done.stdout
    assert len(list((dest / "WaterBi214Run").glob("*.root"))) == 2


def test_grab_on_a_terminal_shows_a_progress_bar(production: Production, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: a rich bar with rate and ETA; stdout (a pipe) the summary."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160", "TERM": "xterm"}
    env.pop("MCPROD_DB", None)
    with subprocess.Popen(
        [sys.executable, "-m", "reconciler", "grab", LABEL, str(tmp_path / "d"),
         "--repo", str(production.root)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=follower, text=True,
    ) as process:
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal is closed once the process is gone
                break
            if not chunk:
                break
            shown += chunk
        out = process.stdout.read() if process.stdout else ""
    os.close(leader)
    assert process.returncode == 0
    assert out.startswith(f"grab {LABEL}: {ALL_FILES} files, copied {ALL_FILES} (")
    screen = shown.decode("utf-8", "replace")
    assert f"grab {LABEL}" in screen and "ETA" in screen
    assert f"{ALL_FILES}/{ALL_FILES}" in screen and "files/s" in screen
