"""Stage-out, run inside the job: copy RAT's outputs to storage, write the return card.

This file is self-contained (standard library only) because it runs on worker
nodes where mcprod is not installed: the job-script renderer embeds its source
in every job script. The reconciler imports the same functions (adler32, copy),
so the job and the monitor agree on checksums by construction.

It runs on the worker node's own `python3`, which on CentOS 7 grid nodes is 3.6:
no walrus, no `from __future__ import annotations`, no `capture_output`, and
type hints as comments (`make test` checks it with vermin, target 3.6).

Input (stdin, JSON): {"card": path, "job_id": ..., "attempt": n,
                      "outputs": [{"name", "data_type", "url"[, "lfn"]}]
                      [, "register_se": DIRAC SE name]}
An output with an LFN goes to storage with `dirac-dms-add-file LFN FILE SE GUID`
(DIRAC's data-management command: it copies to the SE and registers the replica
in the DIRAC File Catalog under that LFN and GUID); the others with gfal-copy.
The card is written atomically, and only after every copy succeeded; on failure
the error goes to stderr (retry policies match on it, e.g. "gfal-copy error: 70")
and to an `error` card so the monitor can tell why, and the exit code is 1.
Each file gets a GUID (upper-case UUID, as the legacy return card had), which a
site with a file catalogue registers with the file's LFN.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
import zlib

try:
    from urllib.parse import unquote, urlparse
except ImportError:  # pragma: no cover - Python 2 is not supported, but say so clearly
    sys.exit("mcprod stage-out needs Python 3.6 or newer")

CHUNK = 1 << 20


def adler32_of_file(path):
    # type: (str) -> str
    """adler32 of a file as 8 lowercase hex digits (what gfal-sum ADLER32 prints)."""
    value = 1
    with open(path, "rb") as stream:
        chunk = stream.read(CHUNK)
        while chunk:
            value = zlib.adler32(chunk, value)
            chunk = stream.read(CHUNK)
    return "%08x" % (value & 0xFFFFFFFF)


def local_path(url):
    # type: (str) -> str | None
    """The path of a file:// URL (or a plain path), None for any other scheme."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return unquote(parsed.path)
    return None


def gfal_env():
    # type: () -> dict[str, str]
    # gfal2's Python bindings live in Debian's/the grid UI's own interpreter.
    env = dict(os.environ)
    if os.path.exists("/usr/bin/python3"):
        env.setdefault("GFAL_PYTHONBIN", "/usr/bin/python3")
    return env


def copy_file(source, url, use_gfal=False):
    # type: (str, str, bool) -> None
    """Copies a local file to a storage URL (file:// by copy, other schemes with gfal-copy)."""
    target = local_path(url)
    if target is not None and not use_gfal:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = target + ".part"
        shutil.copyfile(source, partial)
        os.replace(partial, target)
        return
    command = ["gfal-copy", "-f", "-p", "file://" + os.path.abspath(source), url]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=gfal_env(), check=False)
    except FileNotFoundError:
        raise RuntimeError("gfal-copy: command not found (install the gfal2 tools)") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"gfal-copy error: {done.returncode}: {tail}")


def add_to_catalogue(source, lfn, se, guid):
    # type: (str, str, str, str) -> None
    """Copies a file to a DIRAC SE and registers it under its LFN and GUID.

    DIRAC's dirac_dms_add_file.py: `dirac-dms-add-file [-f] LFN Path SE [GUID]`, exit
    code 3 with "Error: failed to upload ..." on failure; -f overwrites what an
    earlier attempt of the same job may have registered."""
    command = ["dirac-dms-add-file", "-f", lfn, os.path.abspath(source), se, guid]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
    except FileNotFoundError:
        raise RuntimeError("dirac-dms-add-file: command not found (no DIRAC client "
                           "on the worker node)") from None
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        raise RuntimeError(f"dirac-dms-add-file error: {done.returncode}: "
                           + " | ".join(lines[-3:]))


def write_json_atomic(path, data):
    # type: (str, object) -> None
    partial = path + ".tmp"
    with open(partial, "w") as stream:
        json.dump(data, stream, indent=1, sort_keys=True)
        stream.write("\n")
    os.replace(partial, path)


def new_guid():
    # type: () -> str
    return str(uuid.uuid4()).upper()


def stage_out(plan):
    # type: (dict[str, object]) -> int
    card_path = str(plan["card"])
    files = []  # type: list[dict[str, object]]
    outputs = plan.get("outputs")
    assert isinstance(outputs, list)
    try:
        for output in outputs:
            name, url = str(output["name"]), str(output["url"])
            if not os.path.isfile(name):
                raise RuntimeError(f"output {name} was not written by rat")
            size, checksum, guid = os.path.getsize(name), adler32_of_file(name), new_guid()
            entry = {"name": name, "data_type": output["data_type"], "url": url,
                     "size": size, "adler32": checksum, "guid": guid}
            if output.get("lfn"):
                add_to_catalogue(name, str(output["lfn"]), str(plan["register_se"]), guid)
                entry["lfn"] = output["lfn"]
            else:
                copy_file(name, url)
            print(f"stage-out: {name} -> {url} ({size} bytes, adler32 {checksum})")
            files.append(entry)
    except (OSError, RuntimeError) as error:
        print(f"stage-out failed: {error}", file=sys.stderr)
        write_json_atomic(card_path, {"job_id": plan.get("job_id"), "attempt": plan.get("attempt"),
                                      "files": [], "error": str(error)})
        return 1
    write_json_atomic(card_path, {"job_id": plan.get("job_id"), "attempt": plan.get("attempt"),
                                  "files": files})
    return 0


if __name__ == "__main__":
    sys.exit(stage_out(json.load(sys.stdin)))
