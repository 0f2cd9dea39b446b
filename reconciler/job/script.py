"""The per-attempt job script: set up RAT, run the macro, stage the outputs out.

`prepare_attempt` writes, into `<work root>/jobs/<Module>/r<run>_s<sub>_p<pass>/a<attempt>/`:

    job.sh       the script the backend runs (bash, meant to be read by a site admin)
    job.mac      the macro as rendered (also embedded in job.sh)
    job.out/err  the backend's logs of the script
    return-card.json   written by the job's stage-out

The script is self-contained (macro and stage-out program embedded as quoted
here-documents) so that a grid backend can ship it alone; it runs in the folder
the backend starts it in and writes everything there.

Decisions the design left open, taken here:
- Output names are set in the macro: after each `/rat/proc[last] outroot` and
  `outntuple` line mcprod puts `/rat/procset file "<name>"`, the RAT command that
  names an output processor's file. The first outroot/outntuple processor is
  `ratds`/`ntuple`, any later one `other_ratds`/`other_ntuple`.
- The RAT command line comes from one table (reconciler.job.ratcommand); the RATDB
  tag in the form the RAT version's file declares.
- RATDB access: the site declares its server and where the password lives on the
  worker. The script reads the password there, at run time, into a shell variable
  (never exported) and builds the `-b` URL from it; what it prints shows the URL
  with the password masked. So the password is in neither the script, the job
  document, the submission environment nor any log mcprod writes. A missing file or
  variable fails the job with a line saying which.
- Template values are filled in by mcprod before submission, so a bad value or a
  missing one stops the attempt here instead of failing on a worker node.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from reconciler.backends.base import SubmitSpec
from reconciler.documents import output_stem as job_output_stem
from reconciler.errors import McprodError
from reconciler.job.ratcommand import (
    LOG_OPTIONS,
    MACRO,
    RATDB_OPTION,
    RatCommandError,
    event_mode_arguments,
    tag_arguments,
)
from reconciler.job.storage import output_url
from reconciler.model import RatdbAccess, Site

PLAIN_TOKEN = re.compile(r"[A-Za-z0-9_.:+-]+")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
OUTPUT_PROCESSOR = re.compile(r"^\s*/rat/proc(?:last)?\s+(outroot|outntuple)\b")
PROCSET_FILE = re.compile(r"^\s*/rat/procset\s+file\b")


class JobScriptError(McprodError):
    """The job document, site or release cannot make a runnable script."""


@dataclass(frozen=True)
class OutputFile:
    name: str
    data_type: str


@dataclass(frozen=True)
class AttemptFiles:
    """Where one attempt's files live; `spec` is what the backend is given."""

    work_dir: Path
    script: Path
    macro: Path
    stdout: Path
    stderr: Path
    return_card: Path

    def spec(self, name: str) -> SubmitSpec:
        return SubmitSpec(name, self.script, self.work_dir, self.stdout, self.stderr)


def attempt_dir(work_root: Path, job: Mapping[str, Any], attempt: int | None = None) -> Path:
    number = job.get("attempt") if attempt is None else attempt
    folder = f"r{job['run']}_s{job.get('subrun') or 0}_p{job['pass']}"
    return inside(work_root / "jobs" / str(job["module"]) / folder / f"a{number}", work_root,
                  "the job folder")


def inside(path: Path, root: Path, what: str) -> Path:
    """`path`, after checking that it stays inside `root` (no `..`, no way out through
    a symlink): every path built from a document goes through here."""
    if not path.resolve().is_relative_to(_resolved(root)):
        raise JobScriptError(f"{what} {path} would be outside {root}")
    return path


@functools.lru_cache(maxsize=64)
def _resolved(root: Path) -> Path:
    """A root's real path, once per process: a cycle checks thousands of paths against
    the same few roots (the site's folders, which it does not move)."""
    return root.resolve()


def one_line(value: object) -> str:
    """Text for a comment of the script: printable characters only, on one line."""
    return "".join(c if c.isprintable() else "?" for c in str(value))


def attempt_files(
    work_root: Path, job: Mapping[str, Any], attempt: int | None = None
) -> AttemptFiles:
    folder = attempt_dir(work_root, job, attempt)
    return AttemptFiles(
        work_dir=folder,
        script=folder / "job.sh",
        macro=folder / "job.mac",
        stdout=folder / "job.out",
        stderr=folder / "job.err",
        return_card=folder / "return-card.json",
    )


def return_card_path(work_root: Path, job: Mapping[str, Any]) -> Path:
    """The return card of the job's current attempt (what the monitor reads)."""
    return attempt_files(work_root, job).return_card


def env_script_for(site: Site, rat_version: str, version_env: str) -> str:
    """The env script a site uses for a RAT version: its rat_locations entry; CVMFS -> env."""
    location = site.rat_locations.get(rat_version)
    if location is None:
        raise JobScriptError(f"site {site.name} has no rat_locations entry for RAT {rat_version}")
    return version_env if location == "CVMFS" else location


def release_root(env_script: str, rat_version: str) -> Path:
    """The RAT release beside the env script (CVMFS: `rat-<v>/` next to it; else its folder)."""
    folder = Path(env_script).parent
    for candidate in (folder / f"rat-{rat_version}", folder):
        if (candidate / "mac").is_dir():
            return candidate
    raise JobScriptError(f"no RAT release with a mac/ folder next to {env_script}")


def check_template_value(name: str, value: object) -> str:
    """The text a template value becomes; numbers or plain tokens only."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise JobScriptError(f"template value {name}={value!r}: expected a number or a plain token")
    text = str(value)
    if isinstance(value, str) and not PLAIN_TOKEN.fullmatch(text):
        raise JobScriptError(
            f"template value {name}={value!r}: only letters, digits and _.:+- are allowed"
        )
    return text


def output_stem(job: Mapping[str, Any]) -> str:
    """`<Module>_r<run>_s<subrun>_p<pass>`, the legacy output name."""
    return job_output_stem(
        str(job["module"]), int(job["run"]), int(job.get("subrun") or 0), int(job["pass"])
    )


def output_file_name(job: Mapping[str, Any], data_type: str) -> str:
    stem = output_stem(job)
    suffix = str(job.get("other_suffix") or "other").lstrip("_")
    return {
        "ratds": f"{stem}.root",
        "ntuple": f"{stem}.ntuple.root",
        "other_ratds": f"{stem}_{suffix}.root",
        "other_ntuple": f"{stem}_{suffix}.ntuple.root",
    }[data_type]


def job_label(job: Mapping[str, Any]) -> str:
    """The label in the job's output folder: its campaign."""
    return str(job.get("campaign") or (job.get("labels") or ["unlabelled"])[0])


def expected_outputs(job: Mapping[str, Any], base_url: str) -> dict[str, str]:
    """URL -> data type of every output the job is to produce, derived from the job
    document alone (never from what its return card claims)."""
    label, module = job_label(job), str(job["module"])
    return {
        output_url(base_url, label, module, output_file_name(job, str(kind))): str(kind)
        for kind in job.get("outputs") or []
    }


def render_macro(
    text: str, template: Mapping[str, object], job: Mapping[str, Any]
) -> tuple[str, list[OutputFile]]:
    """The macro with template values filled in and output names set; and those outputs."""
    values = {name: check_template_value(name, value) for name, value in template.items()}
    missing = sorted({m for m in PLACEHOLDER.findall(text) if m not in values})
    if missing:
        raise JobScriptError(f"macro placeholders without a template value: {', '.join(missing)}")
    text = PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    if "MCPROD_MACRO" in text:  # the here-document delimiter that embeds the macro
        raise JobScriptError("macro contains the reserved word MCPROD_MACRO")
    lines: list[str] = []
    outputs: list[OutputFile] = []
    seen: set[str] = set()
    for line in text.splitlines():
        if PROCSET_FILE.match(line) and lines and lines[-1].startswith("/rat/procset file"):
            continue  # the macro's own file name for this processor: mcprod's wins
        lines.append(line)
        match = OUTPUT_PROCESSOR.match(line)
        if match:
            kind = "ratds" if match.group(1) == "outroot" else "ntuple"
            data_type = kind if kind not in seen else f"other_{kind}"
            seen.add(kind)
            name = output_file_name(job, data_type)
            outputs.append(OutputFile(name, data_type))
            lines.append(f'/rat/procset file "{name}"')
    declared = [str(o) for o in job.get("outputs") or []]
    made = {o.data_type for o in outputs}
    absent = [o for o in declared if o not in made]
    if absent:
        raise JobScriptError(f"macro has no output processor for {', '.join(absent)}")
    return "\n".join(lines) + "\n", [o for o in outputs if o.data_type in declared]


def rat_arguments(job: Mapping[str, Any], tag_args: Sequence[str] | None = None) -> list[str]:
    """The event-mode options and the RATDB tag arguments for `rat` (see ratcommand)."""
    try:
        args = event_mode_arguments(job)
        tag = job.get("ratdb_tag")
        if tag:
            tag = check_template_value("ratdb_tag", tag)
        return args + tag_arguments(tag or None, tag_args, str(job.get("rat_version")))
    except RatCommandError as error:
        raise JobScriptError(f"{job.get('_id')}: {error}") from None


def ratdb_lines(ratdb: RatdbAccess, site_name: str) -> str:
    """Bash that sets `mcprod_ratdb_url` from the password on the worker (see the module
    docstring); every value but the password is checked by the site schema."""
    where = f"sites/{site_name}.yaml ratdb.auth"
    if ratdb.password_file is not None:
        path = shlex.quote(ratdb.password_file)
        what = f"RATDB password file {ratdb.password_file}"
        read = (
            f"if [ ! -r {path} ]; then\n"
            f"  echo {shlex.quote(f'mcprod: {what} is missing or unreadable here ({where})')}"
            " >&2\n  exit 3\nfi\n"
            f"IFS= read -r mcprod_ratdb_password < {path} || true\n"
        )
    else:
        name = str(ratdb.password_env)
        what = f"RATDB password variable {name}"
        read = f'mcprod_ratdb_password="${{{name}:-}}"\n'
    empty = shlex.quote(f"mcprod: {what} is empty or not set ({where})")
    prefix = shlex.quote(f"{ratdb.protocol}://{ratdb.user}:")
    suffix = shlex.quote(f"@{ratdb.address}/{ratdb.database}")
    return (
        "# RATDB access: the password is read here, on the worker, into a variable that is\n"
        "# never exported; only the masked URL is ever printed.\n"
        + read
        + f'if [ -z "$mcprod_ratdb_password" ]; then\n  echo {empty} >&2\n  exit 3\nfi\n'
        + f'mcprod_ratdb_url={prefix}"$mcprod_ratdb_password"{suffix}\n'
        + "unset mcprod_ratdb_password\n"
    )


def rat_command_lines(
    job: Mapping[str, Any], ratdb: RatdbAccess | None, tag_args: Sequence[str] | None,
    ratdb_url_file: str | None = None,
) -> tuple[str, str]:
    """(the command as printed, with the password masked; the command as run).

    `ratdb_url_file` (a site's file holding the whole URL) is read as RAT starts; a
    declared `ratdb:` server takes precedence."""
    rest = [*rat_arguments(job, tag_args), MACRO]
    if ratdb is None and ratdb_url_file:
        head = shlex.join(["rat", *LOG_OPTIONS, RATDB_OPTION])
        command = f'{head} "$(cat {shlex.quote(ratdb_url_file)})" {shlex.join(rest)}'
        return command, command
    if ratdb is None:
        command = shlex.join(["rat", *LOG_OPTIONS, *rest])
        return command, command
    # Only echoed (quoted as a whole), so the masked URL needs no quoting of its own.
    shown = " ".join(["rat", *LOG_OPTIONS, RATDB_OPTION, ratdb.masked_url, *rest])
    head = shlex.join(["rat", *LOG_OPTIONS, RATDB_OPTION])
    return shown, f'{head} "$mcprod_ratdb_url" {shlex.join(rest)}'


def stageout_source() -> str:
    return resources.files("reconciler").joinpath("job", "stageout.py").read_text(encoding="utf-8")


def render_job_script(
    job: Mapping[str, Any],
    *,
    env_script: str,
    macro_text: str,
    outputs: Sequence[OutputFile],
    base_url: str,
    attempt: int,
    setup: Sequence[str] = (),
    catalogue: tuple[str, str] | None = None,
    ratdb_url_file: str | None = None,
    ratdb: RatdbAccess | None = None,
    site_name: str = "",
    tag_args: Sequence[str] | None = None,
) -> str:
    """The bash script of one attempt (pure: text in, text out).

    `catalogue` (LFN base, DIRAC SE): the outputs are copied and registered in the
    DIRAC File Catalog by the stage-out (dirac-dms-add-file) instead of gfal-copy.
    `ratdb_url_file` is a file on the worker holding the RATDB URL with its password:
    the script reads it when RAT starts (`-b "$(cat FILE)"`), so the password is in
    neither the script text nor any environment."""
    label = job_label(job)
    module = str(job["module"])
    plan: dict[str, Any] = {
        "card": "return-card.json",
        "job_id": job.get("_id"),
        "attempt": attempt,
        "outputs": [
            {"name": o.name, "data_type": o.data_type,
             "url": output_url(base_url, label, module, o.name)}
            for o in outputs
        ],
    }
    if catalogue is not None:
        lfn_base, dirac_se = catalogue
        plan["register_se"] = dirac_se
        for output in plan["outputs"]:
            output["lfn"] = output_url(lfn_base, label, module, output["name"])
    shown, rat = rat_command_lines(job, ratdb, tag_args, ratdb_url_file)
    access = ratdb_lines(ratdb, site_name) if ratdb is not None else ""
    destination = output_url(base_url, label, str(job["module"]), "")
    return f"""#!/bin/bash
# mcprod job script (generated; kept for reading). One attempt of one job:
#   job      {one_line(job.get('_id'))}  attempt {attempt}
#   campaign {one_line(label)}  RAT {one_line(job.get('rat_version'))}
#   macro    {one_line(job.get('macro_path'))}
# It runs in the folder the batch system starts it in and leaves there:
# job.mac, rat.log, the outputs, and return-card.json (what the reconciler reads).
set -euo pipefail
rm -f return-card.json
{_setup_block(setup)}
echo {shlex.quote(f"mcprod: setting up RAT from {env_script}")}
set +u  # env scripts are not written for nounset
source {shlex.quote(env_script)}
set -u

echo "mcprod: writing the rendered macro job.mac"
cat > job.mac <<'MCPROD_MACRO'
{macro_text.rstrip(chr(10))}
MCPROD_MACRO

{access}echo {shlex.quote(f"mcprod: running {shown}")}
{rat}

echo {shlex.quote(f"mcprod: copying outputs to {destination}")}
cat > mcprod-stageout.py <<'MCPROD_STAGEOUT'
{stageout_source().rstrip(chr(10))}
MCPROD_STAGEOUT
python3 mcprod-stageout.py <<'MCPROD_PLAN'
{json.dumps(plan, indent=1, sort_keys=True)}
MCPROD_PLAN
"""


def catalogue_of(site: Site) -> tuple[str, str] | None:
    """(LFN base, DIRAC SE) when the site's storage registers outputs in a catalogue."""
    storage = site.storage
    if storage.catalogue == "dfc" and storage.lfn_base and storage.dirac_se:
        return storage.lfn_base, storage.dirac_se
    return None


def _setup_block(setup: Sequence[str]) -> str:
    """The site's `setup:` lines (grid UI, proxy, modules), run before RAT's env script."""
    if not setup:
        return ""
    lines = "\n".join(setup)
    return (
        '\necho "mcprod: running the site\'s setup lines"\n'
        "set +u  # site set-up scripts are not written for nounset\n"
        f"{lines}\n"
        "set -u\n"
    )


def prepare_attempt(
    job: Mapping[str, Any],
    *,
    site: Site,
    version_env: str,
    work_root: Path,
    attempt: int | None = None,
    tag_args: Sequence[str] | None = None,
) -> AttemptFiles:
    """Renders the macro and writes the script of the job's current attempt.

    `tag_args` are the RAT version's `ratdb.tag_args` (None: it declares none)."""
    number = int(job.get("attempt") or 0) if attempt is None else attempt
    rat_version = str(job.get("rat_version"))
    env_script = env_script_for(site, rat_version, version_env)
    release = release_root(env_script, rat_version)
    relative = str(job.get("macro_path"))
    if Path(relative).is_absolute():
        raise JobScriptError(f"macro path {relative!r} must be relative to the RAT release")
    macro_path = inside(release / relative, release, "the macro")
    try:
        macro_source = macro_path.read_text(encoding="utf-8")
    except OSError as error:
        raise JobScriptError(f"cannot read macro {macro_path}: {error.strerror}") from None
    template = job.get("template") or {}
    macro_text, outputs = render_macro(macro_source, template, job)
    files = attempt_files(work_root, job, number)
    files.work_dir.mkdir(parents=True, exist_ok=True)
    files.macro.write_text(macro_text)
    script = render_job_script(
        job,
        env_script=env_script,
        macro_text=macro_text,
        outputs=outputs,
        base_url=site.storage.base_url,
        attempt=number,
        setup=site.setup,
        catalogue=catalogue_of(site),
        ratdb_url_file=site.ratdb_url_file,
        ratdb=site.ratdb,
        site_name=site.name,
        tag_args=tag_args,
    )
    partial = files.script.with_suffix(".sh.tmp")
    partial.write_text(script)
    partial.chmod(0o755)
    partial.replace(files.script)
    return files
