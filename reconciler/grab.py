"""`mcprod grab`: fetch a label's output files, each verified by size and adler32.

Files land in `DEST/<Module>/<name>`. A copy goes to `.<name>.part` beside its
target and is renamed into place only after its size and adler32 match the data
document, so an interrupted grab leaves no half file under a real name, and a
second grab skips every file already there and verified (resumable). A file whose
local copy differs (corrupted, or left by another tool) is fetched again.

file:// URLs are copied directly; other schemes with `gfal-copy` (as the
stage-out does), several at once (`jobs`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.job.stageout import adler32_of_file, gfal_env, local_path
from reconciler.overview.files import OutputFile

COPY_TIMEOUT_S = 3600

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    file: OutputFile
    status: str  # copied | present | failed
    reason: str | None = None


@dataclass
class GrabResult:
    copied: list[OutputFile] = field(default_factory=list)
    present: list[OutputFile] = field(default_factory=list)
    failed: list[Outcome] = field(default_factory=list)

    @property
    def copied_bytes(self) -> int:
        return sum(f.size for f in self.copied)


def target_of(dest: Path, file: OutputFile) -> Path:
    return dest / file.module / file.name


def problem_with(path: Path, file: OutputFile) -> str | None:
    """None when the local file has the recorded size and adler32, else what differs."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    if size != file.size:
        return f"size {size}, {file.size} recorded"
    actual = adler32_of_file(str(path))
    if actual != file.adler32:
        return f"adler32 {actual}, {file.adler32} recorded"
    return None


def _copy(url: str, partial: Path, use_gfal: bool) -> None:
    source = local_path(url)
    if source is not None and not use_gfal:
        try:
            shutil.copyfile(source, partial)
        except OSError as exc:
            raise RuntimeError(f"cannot copy: {exc.strerror or exc}") from None
        return
    command = ["gfal-copy", "-f", url, "file://" + str(partial.resolve())]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=gfal_env(),
                              timeout=COPY_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise RuntimeError("gfal-copy: command not found (install the gfal2 tools)") from None
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"gfal-copy: no end within {COPY_TIMEOUT_S} s") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-2:])
        raise RuntimeError(f"gfal-copy error: {done.returncode}: {tail}")


def fetch_one(file: OutputFile, dest: Path, *, use_gfal: bool = False) -> Outcome:
    target = target_of(dest, file)
    if target.exists() and problem_with(target, file) is None:
        return Outcome(file, "present")
    partial = target.with_name(f".{file.name}.part")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(file.url, partial, use_gfal)
        problem = problem_with(partial, file)
        if problem is not None:
            return Outcome(file, "failed", f"copy does not match the data document: {problem}")
        os.replace(partial, target)
    except (RuntimeError, OSError) as exc:
        return Outcome(file, "failed", str(exc))
    finally:
        if partial.exists():
            partial.unlink()
    return Outcome(file, "copied")


def grab(
    files: Sequence[OutputFile],
    dest: Path,
    *,
    jobs: int = 4,
    use_gfal: bool = False,
    progress: Progress | None = None,
) -> GrabResult:
    result = GrabResult()
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(fetch_one, f, dest, use_gfal=use_gfal) for f in files]
        for future in as_completed(futures):
            outcome = future.result()
            if outcome.status == "copied":
                result.copied.append(outcome.file)
            elif outcome.status == "present":
                result.present.append(outcome.file)
            else:
                result.failed.append(outcome)
            done += 1
            if progress is not None:
                progress(done, len(files))
    result.failed.sort(key=lambda o: o.file.url)
    return result
