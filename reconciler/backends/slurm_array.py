"""Many job scripts as one Slurm job array: the slurm backend's fast submission path.

One `sbatch --array=0-<n-1>` replaces n sbatch calls (each one a process, a munge
credential and a controller RPC), which is what makes thousands of submissions
take seconds. Each task runs one job script, chosen by its task number from a
manifest written before submission:

    <work dir>/slurm-arrays/<batch>/manifest.tsv   name, script, work dir, stdout, stderr
    <work dir>/slurm-arrays/<batch>/dispatch.sh    the array's script
    <work dir>/slurm-arrays/<batch>/<task>.out|err  Slurm's own messages per task

The array is named `mcprod-array:<batch>`; a job's backend id is `<array id>_<task>`.
Recovery by job name reads the manifests (written before sbatch, so a crash
right after sbatch still finds them) and looks the array up by its name.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.backends.base import SubmitSpec

ARRAY_NAME_PREFIX = "mcprod-array:"
FOLDER = "slurm-arrays"

DISPATCH = """\
#!/bin/bash
# mcprod: one Slurm job array, many job scripts. Task i runs line i+1 of the manifest
# (name, script, work dir, stdout, stderr; tab-separated), with that job's own logs.
manifest={manifest}
IFS=$'\\t' read -r name script work_dir stdout stderr \\
  < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$manifest")
if [ -z "${{script:-}}" ]; then
  echo "mcprod dispatch: no line $((SLURM_ARRAY_TASK_ID + 1)) in $manifest" >&2
  exit 1
fi
echo "mcprod dispatch: task $SLURM_ARRAY_TASK_ID runs $name"
cd "$work_dir" || exit 1
exec "$script" >"$stdout" 2>"$stderr"
"""


@dataclass(frozen=True)
class ArrayBatch:
    batch: str
    folder: Path
    dispatch: Path
    names: tuple[str, ...]

    @property
    def job_name(self) -> str:
        return ARRAY_NAME_PREFIX + self.batch


def fits_manifest(spec: SubmitSpec) -> bool:
    """Whether a spec can go into the tab-separated manifest."""
    fields = (spec.name, str(spec.script), str(spec.work_dir), str(spec.stdout), str(spec.stderr))
    return not any(c in f for f in fields for c in "\t\n")


def write_batch(work_dir: Path, specs: Sequence[SubmitSpec]) -> ArrayBatch:
    batch = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(4)}"
    folder = work_dir / FOLDER / batch
    folder.mkdir(parents=True)
    manifest = folder / "manifest.tsv"
    lines = [
        "\t".join((s.name, str(s.script), str(s.work_dir), str(s.stdout), str(s.stderr)))
        for s in specs
    ]
    manifest.write_text("\n".join(lines) + "\n")
    dispatch = folder / "dispatch.sh"
    dispatch.write_text(DISPATCH.format(manifest=_quote(str(manifest))))
    dispatch.chmod(0o755)
    return ArrayBatch(batch, folder, dispatch, tuple(s.name for s in specs))


def record_array_id(batch: ArrayBatch, array_id: str) -> None:
    """Kept for people reading the folder; recovery does not depend on it."""
    (batch.folder / "array_id").write_text(array_id + "\n")


def manifests(work_dir: Path) -> Iterator[tuple[str, list[str]]]:
    """(batch, job names in task order) for every batch ever written here."""
    root = work_dir / FOLDER
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        try:
            text = (folder / "manifest.tsv").read_text()
        except OSError:
            continue
        yield folder.name, [line.split("\t", 1)[0] for line in text.splitlines() if line]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
