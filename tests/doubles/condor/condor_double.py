"""TEST DOUBLE for the HTCondor commands (no HTCondor daemons can run here).

`bin/condor_*` call this file with the command name. It answers in HTCondor's
formats (condor_submit's "N job(s) submitted to cluster C.", condor_q/condor_history
`-json` job ads with ClusterId, ProcId, JobStatus, ExitCode, HoldReason,
RemoveReason and custom attributes) and keeps its queue in $CONDOR_DOUBLE_HOME
(see tests/doubles/common.py for how jobs run on fresh worker folders, and faults).

What it models: submit descriptions of the form the condor backend writes (one
`queue <vars> from (...)` statement, `$(var)` expanded, `+Attr = value` custom
attributes), file transfer (transfer_input_files relative to initialdir in;
output/error and transfer_output_files back to initialdir when the job ends; a
missing output file puts the job on hold, as HTCondor does), JobStatus 1 Idle,
2 Running, 3 Removed, 4 Completed, 5 Held; `-constraint` with `==` on strings,
`member(Attr, {...})` and `&&` (the forms the backend sends).
"""

import json
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common import Queue, stop

IN_QUEUE = (1, 2, 5)


def parse_submit(text):
    settings, custom, items, names = {}, {}, [], []
    lines = iter(text.splitlines())
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        queue = re.match(r"queue\s+(.+?)\s+from\s+\($", line)
        if queue:
            names = [n.strip() for n in queue.group(1).split(",")]
            for item in lines:
                if item.strip() == ")":
                    break
                items.append([v.strip() for v in item.split(",", len(names) - 1)])
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if key.startswith("+"):
            custom[key[1:]] = value
        else:
            settings[key.lower()] = value
    return settings, custom, [dict(zip(names, item, strict=True)) for item in items]


def expand(text, variables):
    return re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), ""), text)


def environment_of(value):
    value = value.strip().strip('"')
    env = {}
    for match in re.finditer(r"(\w+)=('(?:[^']|'')*'|\S*)", value):
        text = match.group(2)
        if text.startswith("'"):
            text = text[1:-1].replace("''", "'")
        env[match.group(1)] = text
    return env


def submit(queue, args):
    with open(args[-1]) as stream:
        settings, custom, items = parse_submit(stream.read())
    with queue.locked():
        cluster = queue.next_ids(1)[0]
        for proc, variables in enumerate(items):
            iwd = expand(settings.get("initialdir", os.getcwd()), variables)
            inputs = [os.path.join(iwd, f.strip()) for f in
                      expand(settings.get("transfer_input_files", ""), variables).split(",")
                      if f.strip()]
            ad = {k: json.loads(expand(v, variables)) for k, v in custom.items()}
            queue.write({
                "id": f"{cluster}.{proc}", "number": cluster * 100000 + proc,
                "name": ad.get("McprodName", ""), "ad": ad, "iwd": iwd,
                "JobStatus": 1, "phase": "waiting", "inputs": inputs,
                "command": [settings["executable"],
                            *expand(settings.get("arguments", ""), variables).split()],
                "stdout": settings.get("output", "_condor_stdout"),
                "stderr": settings.get("error", "_condor_stderr"),
                "listed": [f.strip() for f in settings.get("transfer_output_files", "").split(",")
                           if f.strip()],
                "returned": [settings.get("output", "_condor_stdout"),
                             settings.get("error", "_condor_stderr"),
                             *[f.strip() for f in
                               settings.get("transfer_output_files", "").split(",") if f.strip()]],
                "environment": environment_of(settings.get("environment", '""')),
            })
    print("Submitting job(s)" + "." * len(items))
    print(f"{len(items)} job(s) submitted to cluster {cluster}.")
    return 0


def on_fault(queue, job, kind):
    if kind == "lose":
        queue.forget(job["id"])
        return
    if kind == "stall":
        job.update(JobStatus=5, phase="held",
                   HoldReason="Job stalled: the starter lost contact (injected by the double)")
    else:
        job.update(JobStatus=4, ExitCode=1, phase="transferred")
        with open(os.path.join(job["iwd"], job["stderr"]), "w") as stream:
            stream.write("condor test double: injected failure\n")
    queue.write(job)


def refresh(queue):
    queue.schedule(os.path.abspath(__file__), lambda job, kind: on_fault(queue, job, kind))
    for job in queue.all_jobs():
        if job["phase"] == "running" and job["JobStatus"] != 2:
            job["JobStatus"] = 2
            queue.write(job)
        elif job["phase"] == "done":
            outputs = queue.path("outputs", job["id"])
            for name in job["returned"]:
                if os.path.isfile(os.path.join(outputs, name)):
                    shutil.copyfile(os.path.join(outputs, name), os.path.join(job["iwd"], name))
            missing = [n for n in job["listed"]
                       if not os.path.isfile(os.path.join(outputs, n))]
            if missing:
                job.update(JobStatus=5, HoldReason=(
                    "Error from slot1@double: STARTER failed to send file(s) to submit host: "
                    f"error reading from {missing[0]}: (errno 2) No such file or directory"))
            else:
                job.update(JobStatus=4, ExitCode=job.get("exit_code", 1))
            job["phase"] = "transferred"
            queue.write(job)


def matches(job, constraint):
    ad = dict(job["ad"], ClusterId=int(job["id"].split(".")[0]),
              ProcId=int(job["id"].split(".")[1]))
    for term in constraint.split("&&"):
        term = term.strip()
        equal = re.fullmatch(r'(\w+)\s*==\s*"((?:[^"\\]|\\.)*)"', term)
        member = re.fullmatch(r"member\((\w+),\s*\{(.*)\}\)", term)
        if equal:
            if ad.get(equal.group(1)) != equal.group(2):
                return False
        elif member:
            values = [json.loads(v) for v in
                      re.findall(r'"(?:[^"\\]|\\.)*"|-?\d+', member.group(2))]
            if ad.get(member.group(1)) not in values:
                return False
        else:
            sys.exit(f"condor test double: cannot evaluate constraint term {term!r}")
    return True


def query(queue, args, in_queue):
    options, index = {}, 0
    while index < len(args):
        if args[index] in ("-attributes", "-constraint"):
            options[args[index]] = args[index + 1]
            index += 2
        else:
            options[args[index]] = True
            index += 1
    with queue.locked():
        refresh(queue)
        jobs = [j for j in queue.all_jobs()
                if (j["JobStatus"] in IN_QUEUE) == in_queue
                and matches(j, options.get("-constraint", "true == \"true\""))]
    wanted = options.get("-attributes", "").split(",")
    ads = []
    for job in jobs:
        cluster, proc = job["id"].split(".")
        ad = dict(job["ad"], ClusterId=int(cluster), ProcId=int(proc),
                  JobStatus=job["JobStatus"])
        for key in ("ExitCode", "HoldReason", "RemoveReason"):
            if key in job:
                ad[key] = job[key]
        ads.append({k: v for k, v in ad.items() if k in wanted} if wanted != [""] else ad)
    if ads:  # condor_q -json prints nothing at all when no job matches
        print(json.dumps(ads, indent=2))
    return 0


def remove(queue, args):
    code = 0
    with queue.locked():
        for arg in args:
            job = queue.read(arg)
            if job is None or job["JobStatus"] not in IN_QUEUE:
                print(f"Job {arg} not found")
                code = 1
                continue
            stop(job)
            job.update(JobStatus=3, phase="removed",
                       RemoveReason="via condor_rm (by user mcprod-test)")
            queue.write(job)
            print(f"Job {arg} marked for removal")
    return code


def run(queue, args):
    job = queue.read(args[0])
    if job is not None:
        queue.run_on_worker(job)
    return 0


COMMANDS = {
    "condor_submit": submit,
    "condor_q": lambda queue, args: query(queue, args, True),
    "condor_history": lambda queue, args: query(queue, args, False),
    "condor_rm": remove,
    "_run": run,
}


def main(argv):
    queue = Queue("CONDOR_DOUBLE_HOME")
    command, args = argv[0], argv[1:]
    if command != "_run":
        queue.log_call(command, args)
    return COMMANDS[command](queue, args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
