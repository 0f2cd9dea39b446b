"""The job script, rendered and then run for real by the local backend and the stand-in rat."""

from __future__ import annotations

import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.backends.base import BackendContext, BackendState
from reconciler.backends.registry import create_backend
from reconciler.job.returncard import read_return_card
from reconciler.job.script import (
    JobScriptError,
    attempt_files,
    prepare_attempt,
    rat_arguments,
    render_macro,
    return_card_path,
)
from reconciler.job.stageout import adler32_of_file
from reconciler.job.storage import verify_output
from reconciler.model import BackendConfig, Storage
from tests.backends.release import TAG_ARGS, make_job, make_release, make_site
from tests.backends.support import is_finished, wait_for_state


def test_macro_gets_template_values_and_mcprod_output_names() -> None:
    text, outputs = render_macro(
        "/rat/proc outroot\n/rat/procset file \"x.root\"\n/rat/proclast outntuple\n"
        "/generator/pos/set 0 0 ${z}\n",
        {"z": -1500.5},
        make_job(),
    )
    assert text == (
        "/rat/proc outroot\n"
        '/rat/procset file "WaterBi214_r101_s0_p1.root"\n'
        "/rat/proclast outntuple\n"
        '/rat/procset file "WaterBi214_r101_s0_p1.ntuple.root"\n'
        "/generator/pos/set 0 0 -1500.5\n"
    )
    assert [(o.name, o.data_type) for o in outputs] == [
        ("WaterBi214_r101_s0_p1.root", "ratds"),
        ("WaterBi214_r101_s0_p1.ntuple.root", "ntuple"),
    ]


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            {"z": "1; rm -rf /"},
            "template value z='1; rm -rf /': only letters, digits and _.:+- are allowed",
        ),
        ({"z": True}, "template value z=True: expected a number or a plain token"),
        ({"z": [1, 2]}, "template value z=[1, 2]: expected a number or a plain token"),
        ({}, "macro placeholders without a template value: z"),
    ],
)
def test_bad_template_values_are_refused(template: dict[str, object], message: str) -> None:
    with pytest.raises(JobScriptError) as refused:
        render_macro("/rat/proc outroot\n/generator/pos/set 0 0 ${z}\n", template,
                     make_job(outputs=["ratds"]))
    assert str(refused.value) == message


def test_a_declared_output_without_its_processor_is_refused() -> None:
    with pytest.raises(JobScriptError) as refused:
        render_macro("/rat/proc outroot\n", {}, make_job())
    assert str(refused.value) == "macro has no output processor for ntuple"


@pytest.mark.parametrize(
    ("changes", "arguments"),
    [
        ({"event_mode": "number", "events": 25}, ["-N", "25"]),
        ({"event_mode": "time", "duration_s": 86400.0}, ["-T", "86400"]),
        ({"event_mode": "run", "run": 100151}, ["-r", "100151"]),
        ({"event_mode": "run_number", "run": 100151, "events": 35000},
         ["-n", "100151", "-N", "35000"]),
    ],
)
def test_rat_arguments_per_event_mode(changes: dict[str, object], arguments: list[str]) -> None:
    assert rat_arguments(make_job(**changes), TAG_ARGS) == [
        *arguments, "--standin-ratdb-tag", "water-v2-tag"
    ]


def test_a_rendered_script_runs_and_its_return_card_checks_out(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release")
    storage = tmp_path / "storage"
    job = make_job()
    files = prepare_attempt(job, site=make_site(storage), version_env=str(env),
                            work_root=tmp_path / "work",
                            tag_args=TAG_ARGS)
    assert files == attempt_files(tmp_path / "work", job)
    assert files.work_dir == tmp_path / "work/jobs/WaterBi214/r101_s0_p1/a1"
    script = files.script.read_text()
    assert f"source {env}\n" in script
    assert "rat -l rat.log -N 25 --standin-ratdb-tag water-v2-tag job.mac\n" in script
    assert os.access(files.script, os.X_OK)

    done = subprocess.run([str(files.script)], cwd=files.work_dir, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    card = read_return_card(return_card_path(tmp_path / "work", job))
    assert card.job_id == "job:WaterBi214:r101:s0:p1"
    assert card.attempt == 1
    assert [(f.name, f.data_type) for f in card.files] == [
        ("WaterBi214_r101_s0_p1.root", "ratds"),
        ("WaterBi214_r101_s0_p1.ntuple.root", "ntuple"),
    ]
    for file in card.files:
        stored = storage / "water-v2" / "WaterBi214" / file.name
        assert file.url == stored.as_uri()
        assert file.size == stored.stat().st_size
        assert file.adler32 == adler32_of_file(str(stored))
        assert verify_output(file.url, file.size, file.adler32) is None
    first = (storage / "water-v2/WaterBi214/WaterBi214_r101_s0_p1.root").read_text().splitlines()
    assert first[0] == ("stand-in RAT output: macro=job.mac run=None events=25 seconds=None "
                        "ratdb_tag=water-v2-tag")
    assert len(first) == 26


def test_a_failing_rat_leaves_no_card_and_fails_the_job(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release", macro="# mcprod-standin: fail 3\n/rat/proc outroot\n")
    job = make_job(outputs=["ratds"])
    files = prepare_attempt(job, site=make_site(tmp_path / "storage"), version_env=str(env),
                            work_root=tmp_path / "work",
                            tag_args=TAG_ARGS)
    backend = create_backend(BackendConfig("local"), BackendContext("here", tmp_path / "work"))
    backend_id = backend.submit(files.spec("job:WaterBi214:r101:s0:p1.a1"))
    state = wait_for_state(backend, backend_id, is_finished)
    assert state == BackendState("failed", 3, "exit code 3")
    assert not files.return_card.exists()
    assert "stand-in rat: failing as asked (exit 3)" in files.stderr.read_text()


def test_a_failed_copy_writes_an_error_card_with_the_gfal_message(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release")
    job = make_job()
    # gsiftp without its gfal2 plugin installed: gfal-copy itself fails.
    site = replace(make_site(tmp_path), storage=Storage("gsiftp://localhost:1/nowhere"))
    files = prepare_attempt(job, site=site, version_env=str(env), work_root=tmp_path / "work",
                            tag_args=TAG_ARGS)
    done = subprocess.run([str(files.script)], cwd=files.work_dir, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 1
    assert "stage-out failed: gfal-copy error: " in done.stderr
    card = read_return_card(files.return_card)
    assert card.files == ()
    assert card.error is not None and card.error.startswith("gfal-copy error: ")


def test_missing_release_or_version_is_a_clear_error(tmp_path: Path) -> None:
    site = make_site(tmp_path / "storage")
    with pytest.raises(JobScriptError) as no_version:
        prepare_attempt(make_job(rat_version="6.0.0"), site=site, version_env="/x/env.sh",
                        work_root=tmp_path)
    assert str(no_version.value) == "site here has no rat_locations entry for RAT 6.0.0"
    with pytest.raises(JobScriptError) as no_release:
        prepare_attempt(make_job(), site=site, version_env=str(tmp_path / "env.sh"),
                        work_root=tmp_path)
    assert str(no_release.value) == f"no RAT release with a mac/ folder next to {tmp_path}/env.sh"


def test_site_setup_lines_run_before_the_rat_environment(tmp_path: Path) -> None:
    from reconciler.job.script import render_job_script

    script = render_job_script(
        make_job(ratdb_tag=None), env_script="/cvmfs/rat/env.sh", macro_text="/rat/run/start\n",
        outputs=[],
        base_url="file:///srv/out", attempt=1,
        setup=["source /opt/grid-ui/setup.sh", "export X509_CERT_DIR=/etc/certs"],
    )
    setup = script.index("source /opt/grid-ui/setup.sh\nexport X509_CERT_DIR=/etc/certs\n")
    assert script.index("set +u  # site set-up") < setup < script.index("source /cvmfs/rat/env.sh")
    plain = render_job_script(make_job(ratdb_tag=None), env_script="/cvmfs/rat/env.sh",
                              macro_text="/rat/run/start\n", outputs=[],
                              base_url="file:///srv/out", attempt=1)
    assert "setup lines" not in plain


def test_the_ratdb_password_reaches_rat_only_from_a_file_on_the_worker(tmp_path: Path) -> None:
    env = make_release(tmp_path / "release")
    secret_url = "postgres://snoplus:s3cret-pw@ratdb.example.org/ratdb"
    url_file = tmp_path / "ratdb-url"
    url_file.write_text(secret_url)
    url_file.chmod(0o600)
    site = replace(make_site(tmp_path / "storage"), ratdb_url_file=str(url_file))
    files = prepare_attempt(make_job(), site=site, version_env=str(env),
                            work_root=tmp_path / "work", tag_args=TAG_ARGS)
    script = files.script.read_text()
    assert "s3cret-pw" not in script
    assert (f'rat -l rat.log -b "$(cat {url_file})" -N 25 --standin-ratdb-tag water-v2-tag'
            " job.mac\n") in script
    done = subprocess.run([str(files.script)], cwd=files.work_dir, capture_output=True, text=True,
                          check=False, env={"PATH": os.environ["PATH"]})
    assert done.returncode == 0, done.stderr
    assert "s3cret-pw" not in done.stdout + done.stderr
    output = (tmp_path / "storage/water-v2/WaterBi214/WaterBi214_r101_s0_p1.root").read_text()
    assert output.splitlines()[0].endswith(f" ratdb_url_length={len(secret_url)}")
