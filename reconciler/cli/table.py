"""The command table: each command's name, the module that registers it, its help.

Kept free of typer and of every other reconciler module, so `mcprod --help` can list
the commands without importing them (start.py) and the typer group can import each
one when it runs (lazy.py). tests/cli/test_lazy_commands.py checks the table against
the real commands.
"""

from __future__ import annotations

ROOT_HELP = "GitOps for SNO+ Monte Carlo production."
VERSION_HELP = "Print the version and exit."


class LazyCommand:
    """A plain class, not a dataclass: importing dataclasses (and with it inspect) would
    cost `mcprod --help` about 14 ms."""

    __slots__ = ("help", "module", "name")

    def __init__(self, name: str, module: str, help: str) -> None:
        self.name = name
        self.module = module  # under reconciler.cli; its `register(app)` adds the command
        self.help = help  # the start of the command's help (shortened for `mcprod --help`)

    def __repr__(self) -> str:
        return f"LazyCommand({self.name!r}, {self.module!r}, {self.help!r})"


COMMANDS: tuple[LazyCommand, ...] = (
    LazyCommand("validate", "validate_cmd",
                "Check campaigns, RAT versions, sites and run lists; report every problem"
                " at once."),
    LazyCommand("generate", "generate_cmd",
                "Build the module catalogue of a RAT release from its phase dictionary."),
    LazyCommand("modules", "modules_cmd",
                "The module catalogue of a RAT version: module, event mode, outputs, template"
                " keys."),
    LazyCommand("import-jobs", "import_jobs_cmd",
                "Turn a legacy production request into a campaign YAML file."),
    LazyCommand("publish", "publish_cmd",
                "Publish production_information documents (and design documents);"
                " idempotent."),
    LazyCommand("plan", "plan_cmd",
                "Compare the declared campaigns with the store; print jobs to create,"
                " update, cancel, orphans, events, CPU-hours and output size."),
    LazyCommand("reconcile", "reconcile_cmd",
                "Make the job documents match the declared campaigns (idempotent, safe to"
                " race)."),
    LazyCommand("status", "status_cmd",
                "Per campaign: state (active, paused, cancelled; Ready, Progressing, Stalled"
                " with the reason) and job counts per module."),
    LazyCommand("jobs", "jobs_cmd",
                "List jobs with their last reason, or (--reasons) triage failures by reason."),
    LazyCommand("job", "jobs_cmd",
                "One job's whole history: attempts, backend ids, sites, times, reasons,"
                " outputs, logs."),
    LazyCommand("report", "report_cmd",
                "A static dashboard: campaigns with progress and state, a burn-down plot per"
                " campaign, modules"),
    LazyCommand("files", "files_cmd",
                "Every output file of a label: name, URL, size, adler32, module, run, sub-run,"
                " pass."),
    LazyCommand("grab", "files_cmd",
                "Fetch a label's outputs into DEST/<Module>/, each verified by size and"
                " adler32."),
    LazyCommand("exactly", "exactly_cmd",
                "One `Module Run Pass` line per pass of the campaign, sorted by module, run,"
                " pass."),
    LazyCommand("retry", "operator_cmd",
                "Put failed (or cancelled) jobs back to waiting, with a fresh attempt budget."),
    LazyCommand("cancel", "operator_cmd",
                "Cancel jobs; running ones are stopped by their site's next cycle."),
    LazyCommand("quickstart", "quickstart_cmd",
                "Run the example production in examples/quickstart/ until every job is"
                " done."),
    LazyCommand("rat-roots", "rat_roots_cmd",
                "Print `--rat-root=VERSION=DIR`, one per line, for each release on disk."),
    LazyCommand("db", "db_cmd", "Manage the state database."),
)
