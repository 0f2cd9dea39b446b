"""TEST DOUBLE for the DIRAC client commands (DIRAC cannot run here).

`bin/dirac-*` call this file with the command name. It answers in the formats of
DIRAC's own scripts (src/DIRAC/Interfaces/scripts/dirac_wms_*.py,
FrameworkSystem/scripts/dirac_proxy_info.py) and keeps its jobs in
$DIRAC_DOUBLE_HOME (see tests/doubles/common.py for how jobs run, and faults).

What it models: JDLs with `Parameters` (one job per value, `%s` replaced, as
DIRAC's ParametricJob.py does, at most 20 per JDL like DIRAC's default), the
input sandbox copied in at submission, only the OutputSandbox files coming back,
JobGroup/Date/Maximum selection, job attributes, kill, the proxy's time left
(`$DIRAC_DOUBLE_HOME/proxy-seconds`, default 72 h). Statuses go Waiting -> Running
-> Done / Failed ("Application Finished With Errors"); faults give Failed,
Stalled ("Job stalled: pilot not running") or a forgotten job. Every call is
logged in calls.log (command and argument count) so tests can count them.
"""

import datetime
import json
import os
import pprint
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import WORKER_PATH, Queue, read_text, stop, store_inputs, write_atomic

MAX_PARAMETRIC_JOBS = 20
FINAL = ("Done", "Failed", "Killed", "Deleted", "Stalled")
SITE = "LCG.Double.uk"


def parse_jdl(text):
    """`Name = value;` pairs: strings, {lists of strings}, integers."""
    attributes = {}
    token = re.compile(r'\s*(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|\{[^}]*\}|[-\w.]+)\s*;')
    position = 0
    text = text.strip()
    while position < len(text):
        match = token.match(text, position)
        if not match:
            raise ValueError(f"cannot parse JDL near {text[position:position + 40]!r}")
        name, value = match.group(1), match.group(2)
        if value.startswith('"'):
            attributes[name] = unquote(value)
        elif value.startswith("{"):
            attributes[name] = [unquote(v) for v in re.findall(r'"(?:[^"\\]|\\.)*"', value)]
        else:
            attributes[name] = int(value) if value.lstrip("-").isdigit() else value
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return attributes


def unquote(literal):
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def submit(queue, args):
    jdls = [a for a in args if not a.startswith("-")]
    errors = []
    for path in jdls:
        try:
            with open(path) as stream:
                jdl = parse_jdl(stream.read())
            values = jdl.get("Parameters")
            names = values if isinstance(values, list) else [None]
            if len(names) > MAX_PARAMETRIC_JOBS:
                raise ValueError(f"Number of parametric jobs exceeds the limit of "
                                 f"{MAX_PARAMETRIC_JOBS}")
            inputs = store_inputs(queue, jdl.get("InputSandbox", []))
        except (OSError, ValueError) as error:
            errors.append((path, str(error)))
            continue
        with queue.locked():
            ids = queue.next_ids(len(names))
            for job_id, value in zip(ids, names, strict=True):
                def expand(text, value=value):
                    return text.replace("%s", value) if value is not None else text
                queue.write({
                    "id": job_id, "number": job_id,
                    "name": expand(str(jdl.get("JobName", "Name"))),
                    "group": str(jdl.get("JobGroup", "NoGroup")),
                    "status": "Waiting", "minor": "Pilot Agent Submission",
                    "phase": "waiting", "inputs": inputs,
                    "command": ["./" + expand(str(jdl["Executable"])),
                                *expand(str(jdl.get("Arguments", ""))).split()],
                    "stdout": str(jdl.get("StdOutput", "std.out")),
                    "stderr": str(jdl.get("StdError", "std.err")),
                    "returned": list(jdl.get("OutputSandbox", [])),
                    "date": datetime.date.today().isoformat(),
                    # What a DIRAC pilot gives its payload: the DIRAC client commands.
                    "environment": {"PATH": f"{os.path.dirname(os.path.abspath(__file__))}/bin"
                                            f":{WORKER_PATH}",
                                    "DIRAC_DOUBLE_HOME": queue.home},
                })
        shown = ids if isinstance(values, list) else ids[0]
        print(f"JobID = {shown}")
    for path, message in errors:
        print(f"ERROR {path}: {message}")
    return 2 if errors else 0


def on_fault(queue, job, kind):
    if kind == "lose":
        queue.forget(job["id"])
        return
    if kind == "stall":
        job.update(status="Stalled", minor="Job stalled: pilot not running", phase="stalled")
    else:
        job.update(status="Failed", minor="Application Finished With Errors", phase="done")
        folder = queue.path("outputs", str(job["id"]))
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, job["stderr"]), "w") as stream:
            stream.write("dirac test double: injected failure\n")
    queue.write(job)


def refresh(queue):
    """Start and collect jobs, then give finished ones their DIRAC status."""
    queue.schedule(os.path.abspath(__file__), lambda job, kind: on_fault(queue, job, kind))
    for job in queue.all_jobs():
        if job["phase"] == "running" and job["status"] != "Running":
            job.update(status="Running", minor="Application", site=SITE)
            queue.write(job)
        elif job["phase"] == "done" and job["status"] not in FINAL:
            ok = job.get("exit_code") == 0
            job.update(status="Done" if ok else "Failed",
                       minor="Execution Complete" if ok else "Application Finished With Errors")
            queue.write(job)


def status(queue, args):
    with queue.locked():
        refresh(queue)
    for arg in args:
        job = queue.read(arg) if arg.isdigit() else None
        if job is not None:
            print(f"JobID={job['id']} Status={job['status']}; MinorStatus={job['minor']}; "
                  f"Site={job.get('site', 'ANY')}; ")
    return 0


def switches(args):
    found = {}
    for arg in args:
        if arg.startswith("--") and "=" in arg:
            key, _, value = arg[2:].partition("=")
            found[key] = value
    return found


def select(queue, args):
    options = switches(args)
    maximum = int(options.get("Maximum", "100"))
    since = options.get("Date") or datetime.date.today().isoformat()
    with queue.locked():
        refresh(queue)
        jobs = [j for j in queue.all_jobs() if j["date"] >= since
                and ("JobGroup" not in options or j["group"] == options["JobGroup"])
                and ("Status" not in options or j["status"] == options["Status"])]
    conditions = ", ".join(f"{k} = {v}" for k, v in options.items() if k in (
        "Status", "JobGroup")) + f", Date = {options.get('Date', 'Today')}"
    ids = [str(j["id"]) for j in jobs]
    constrained = " "
    if maximum and len(ids) > maximum:
        ids, constrained = ids[:maximum], f" (first {maximum} shown) "
    if ids:
        print(f"==> Selected {len(jobs)} jobs{constrained}with conditions: {conditions}\n"
              + ",".join(ids))
    else:
        print(f"No jobs were selected with conditions: {conditions}")
    return 0


def attributes(queue, args):
    errors = []
    for arg in args:
        job = queue.read(arg) if arg.isdigit() else None
        if job is None:
            errors.append((arg, f"Job {arg} not found"))
            continue
        pprint.pprint({"JobID": str(job["id"]), "JobName": job["name"], "JobGroup": job["group"],
                       "Status": job["status"], "MinorStatus": job["minor"],
                       "Site": job.get("site", "ANY"), "ApplicationStatus": "Unknown"})
    for error in errors:
        print(f"ERROR {error[0]}: {error[1]}")
    return 2 if errors else 0


def get_output(queue, args):
    out_dir, ids, skip = os.getcwd(), [], False
    for index, arg in enumerate(args):
        if skip:
            skip = False
        elif arg in ("-D", "--Dir"):
            out_dir, skip = args[index + 1], True
        elif arg.startswith("--Dir="):
            out_dir = arg.split("=", 1)[1]
        elif os.path.isdir(arg):
            print(f"Output for job {arg} already retrieved, remove the output directory to "
                  "redownload")
        else:
            ids.append(arg)
    os.makedirs(out_dir, exist_ok=True)
    done = os.listdir(out_dir)
    errors = []
    with queue.locked():
        refresh(queue)
    for job_id in [i for i in ids if i not in done]:
        job = queue.read(job_id)
        source = queue.path("outputs", job_id)
        if job is None or job["status"] not in ("Done", "Failed") or not os.path.isdir(source):
            errors.append((job_id, "No output sandbox registered for this job"))
            continue
        target = os.path.join(out_dir, job_id)
        os.makedirs(target)
        for name in os.listdir(source):
            if not name.startswith("."):
                shutil.copyfile(os.path.join(source, name), os.path.join(target, name))
        print(f"Job output sandbox retrieved in {target}/")
    for error in errors:
        print(f"ERROR {error[0]}: {error[1]}")
    return 2 if errors else 0


def kill(queue, args):
    killed = []
    with queue.locked():
        for arg in args:
            job = queue.read(arg) if arg.isdigit() else None
            if job is None or job["status"] in ("Done", "Failed", "Killed"):
                continue
            stop(job)
            job.update(status="Killed", minor="Marked for termination", phase="killed")
            queue.write(job)
            killed.append(arg)
    if not killed:
        print("ERROR No jobs to kill")
        return 2
    print("Killed jobs " + ",".join(killed))
    return 0


def proxy_info(queue, args):
    path = queue.path("proxy-seconds")
    seconds = int(read_text(path) or str(72 * 3600))
    if seconds < 0:
        print("Error: Can't find a valid proxy")
        return 1
    hours, rest = divmod(seconds, 3600)
    print("subject      : /DC=test/CN=mcprod test double/CN=proxy\n"
          "issuer       : /DC=test/CN=mcprod test double\n"
          "identity     : /DC=test/CN=mcprod test double\n"
          f"timeleft     : {hours:02d}:{rest // 60:02d}:{rest % 60:02d}\n"
          "DIRAC group  : snoplus_user\n"
          "VOMS         : True")
    return 0


def add_file(queue, args):
    """dirac-dms-add-file [-f] LFN Path SE [GUID]: copy to the SE (its URL prefix is in
    storage-elements.json, PFN = prefix + LFN) and register in catalogue.json."""
    force = "-f" in args or "--force" in args
    lfn, local, se, *rest = [a for a in args if a not in ("-f", "--force")]
    lfn = lfn.replace("LFN:", "")
    print(f"\nUploading {lfn}")
    try:
        with open(queue.path("storage-elements.json")) as stream:
            prefix = json.load(stream)[se]
    except (OSError, ValueError, KeyError):
        print(f"Error: failed to upload {lfn} to {se}: unknown storage element", file=sys.stderr)
        return 3
    target = prefix.replace("file://", "", 1) + lfn
    with queue.locked():
        catalogue = json.loads(read_text(queue.path("catalogue.json")) or "{}")
        if lfn in catalogue and not force:
            print(f"Error: failed to upload {lfn} to {se}: file already registered",
                  file=sys.stderr)
            return 3
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(local, target)
        catalogue[lfn] = {"guid": rest[0] if rest else None, "se": se,
                          "size": os.path.getsize(target)}
        write_atomic(queue.path("catalogue.json"), json.dumps(catalogue, indent=1))
    print(f"Successfully uploaded file to {se}")
    return 0


def run(queue, args):
    job = queue.read(args[0])
    if job is not None:
        queue.run_on_worker(job)
    return 0


COMMANDS = {
    "dirac-wms-job-submit": submit,
    "dirac-wms-job-status": status,
    "dirac-wms-select-jobs": select,
    "dirac-wms-job-attributes": attributes,
    "dirac-wms-job-get-output": get_output,
    "dirac-wms-job-kill": kill,
    "dirac-proxy-info": proxy_info,
    "dirac-dms-add-file": add_file,
    "_run": run,
}


def main(argv):
    queue = Queue("DIRAC_DOUBLE_HOME")
    command, args = argv[0], argv[1:]
    if command != "_run":
        queue.log_call(command, args)
    return COMMANDS[command](queue, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
