"""Typed records built from schema-valid YAML data (the shape is already checked)."""

from __future__ import annotations

from typing import Any

from reconciler.config.yamlsource import YamlDoc
from reconciler.model import (
    DEFAULT_MAX_JOBS,
    BackendConfig,
    Benchmark,
    Campaign,
    Entry,
    Override,
    Phase,
    RatdbAccess,
    RatVersion,
    Retry,
    Site,
    SourceRef,
    Storage,
)


def source_of(rel: str, doc: YamlDoc, path: tuple[str | int, ...] = ()) -> SourceRef:
    line, column = doc.mark(path)
    return SourceRef(rel, line, column)


def build_entry(
    rel: str, doc: YamlDoc, index: int, data: dict[str, Any], run_numbers: tuple[int, ...] | None
) -> Entry:
    return Entry(
        module=data["module"],
        index=index,
        source=source_of(rel, doc, ("modules", index)),
        n_ev=data.get("n_ev"),
        ev_per_run=data.get("ev_per_run"),
        t_run=data.get("t_run"),
        t_format=data.get("t_format"),
        n_runs=data.get("n_runs"),
        run_numbers=run_numbers,
        runlist=data.get("runlist"),
        template=dict(data.get("template") or {}),
        priority=data.get("priority"),
    )


def build_campaign(rel: str, doc: YamlDoc, entries: tuple[Entry, ...]) -> Campaign:
    data: dict[str, Any] = doc.data
    retry = data.get("retry") or {}
    sites = data.get("sites")
    return Campaign(
        label=data["label"],
        rat_version=data["rat_version"],
        source=source_of(rel, doc),
        modules=entries,
        ratdb_tag=data.get("ratdb_tag"),
        priority=data.get("priority", 100),
        state=data.get("state", "active"),
        sites=tuple(sites) if sites is not None else None,
        retry=Retry(max_attempts=retry.get("max_attempts", 3), on=tuple(retry.get("on", ()))),
        description=data.get("description"),
        labels=tuple(data.get("labels") or ()),
        max_jobs=data.get("max_jobs", DEFAULT_MAX_JOBS),
    )


def build_rat_version(rel: str, doc: YamlDoc) -> RatVersion:
    data: dict[str, Any] = doc.data
    overrides = {
        module: Override(
            event_mode=fields.get("event_mode"),
            outputs=tuple(fields["outputs"]) if "outputs" in fields else None,
            other_suffix=fields.get("other_suffix"),
        )
        for module, fields in (data.get("overrides") or {}).items()
    }
    benchmarks = {
        module: Benchmark(float(b["cpu_s_per_event"]), float(b["bytes_per_event"]))
        for module, b in (data.get("benchmarks") or {}).items()
    }
    return RatVersion(
        version=data["version"],
        env=data["env"],
        source=source_of(rel, doc),
        phases=tuple(
            Phase(name, p["dir"], p["prefix"]) for name, p in (data.get("phases") or {}).items()
        ),
        internal_rate=tuple(data.get("internal_rate") or ()),
        overrides=overrides,
        benchmarks=benchmarks,
        ratdb_tag_args=(
            tuple(data["ratdb"]["tag_args"]) if data.get("ratdb") is not None else None
        ),
        positions={
            (section, name): SourceRef(rel, *doc.mark((section, name)))
            for section in ("phases", "overrides", "benchmarks", "ratdb")
            for name in (data.get(section) or {})
        }
        | {
            ("internal_rate", name): SourceRef(rel, *doc.mark(("internal_rate", index)))
            for index, name in enumerate(data.get("internal_rate") or ())
        },
    )


def build_site(rel: str, doc: YamlDoc) -> Site:
    data: dict[str, Any] = doc.data
    backend = dict(data["backend"])
    backend_type = backend.pop("type")
    storage = data["storage"]
    accepts = data.get("accepts")
    return Site(
        name=data["name"],
        source=source_of(rel, doc),
        backend=BackendConfig(type=backend_type, options=backend),
        storage=Storage(
            base_url=storage["base_url"], se=storage.get("se"),
            catalogue=storage.get("catalogue"), lfn_base=storage.get("lfn_base"),
            dirac_se=storage.get("dirac_se"),
        ),
        enabled=data.get("enabled", True),
        max_running=data.get("max_running", 100),
        rat_locations=dict(data["rat_locations"]),
        accepts=tuple(accepts) if accepts is not None else None,
        setup=tuple(data.get("setup") or ()),
        store=data.get("store"),
        env=dict(data.get("env") or {}),
        ratdb_url_file=data.get("ratdb_url_file"),
        ratdb=_ratdb(data.get("ratdb")),
    )


def _ratdb(data: dict[str, Any] | None) -> RatdbAccess | None:
    if data is None:
        return None
    auth = data["auth"]
    return RatdbAccess(
        protocol=data["protocol"],
        host=data["host"],
        database=data["database"],
        user=data["user"],
        port=data.get("port"),
        password_file=auth.get("file"),
        password_env=auth.get("env"),
    )
