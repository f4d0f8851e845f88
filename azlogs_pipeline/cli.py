"""The `azlogs` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from azlogs_pipeline.desk import FORMATS
from azlogs_pipeline.errors import AzlogsError
from azlogs_pipeline.vocabulary import eventhub_partition_key

if TYPE_CHECKING:
    import duckdb

    from azlogs_pipeline.config import Settings
    from azlogs_pipeline.publish import PublishResult
    from azlogs_pipeline.runner import BuildRun, DrainRun

Handler = Callable[[argparse.Namespace], int]


class UsageError(AzlogsError):
    """The command line asks for something impossible; the message says what to do."""


def _stack(args: argparse.Namespace) -> int:
    from azlogs_pipeline.local import stack

    directory = Path(args.dir)
    if args.action == "up":
        state = stack.up(
            directory,
            hubs=tuple(args.hub or stack.DEFAULT_HUBS),
            partitions=args.partitions,
            eventhubs_port=args.eventhubs_port,
            blob_port=args.blob_port,
        )
        print(stack.export_lines(state))
        print(
            f"# written to {state.env_file}; load it with: source {state.env_file}", file=sys.stderr
        )
        return 0
    if args.action == "down":
        stopped = stack.down(directory)
        print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        return 0
    services = stack.status(directory)
    if not services:
        print(f"no stack started from {directory.resolve()}")
        return 1
    for name, info in services.items():
        condition = "up" if info["answering"] else ("starting" if info["running"] else "down")
        print(f"{name:10} {condition:8} pid={info['pid']} port={info['port']}")
    return 0 if all(info["answering"] for info in services.values()) else 1


def _parse_start(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        start = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UsageError(
            f"--start {value!r} is not an ISO date or time, e.g. 2026-11-01T00:00Z"
        ) from exc
    return start if start.tzinfo else start.replace(tzinfo=UTC)


def _generate(args: argparse.Namespace) -> int:
    from azlogs_pipeline.local.generator import GeneratorOptions, generate, write_ndjson

    if not args.out and not args.publish and not args.archive:
        raise UsageError(
            "Say where the logs go: --out FILE (NDJSON), --publish (to the Event Hub) or "
            "--archive (to the archive storage account)."
        )
    options = GeneratorOptions(
        records=args.records,
        hours=args.hours,
        seed=args.seed,
        start=_parse_start(args.start),
        malformed_rate=args.malformed_rate,
    )
    result = generate(options)
    print(f"generated {len(result.records):,} records in {len(result.bodies):,} bodies")
    if args.out:
        path = write_ndjson(result, Path(args.out))
        print(f"wrote {path} and its ground truth {path}.truth.json")
    if args.archive:
        _upload_archive(result.records)
    if args.publish:
        published = _publish_to_hub(
            args.hub, [(f"body {i}", b) for i, b in enumerate(result.bodies)]
        )
        return 0 if not published.too_large else 1
    return 0


def _upload_archive(records: Sequence[Mapping[str, Any]]) -> None:
    """Write records as a diagnostic-setting archive (`insights-logs-*` containers)."""
    from azure.core.exceptions import AzureError

    from azlogs_pipeline.config import load_archive_settings
    from azlogs_pipeline.ingest.clients import make_archive_service_client
    from azlogs_pipeline.ingest.errors import explain_archive_error
    from azlogs_pipeline.local.archive import upload_archive

    settings = load_archive_settings()
    service = make_archive_service_client(settings)
    try:
        uploaded = upload_archive(service, records)
    except AzureError as error:
        raise explain_archive_error(error, settings) from None
    finally:
        service.close()
    hours = sorted(uploaded.hours)
    span = f"{hours[0]:%Y-%m-%d-%H}..{hours[-1]:%Y-%m-%d-%H}" if hours else "none"
    print(
        f"archived {uploaded.records:,} records in {len(uploaded.blobs):,} blobs (hours {span}; "
        f"{uploaded.skipped:,} without a category or time skipped)"
    )


def _publish_to_hub(
    hub: str | None, bodies: Sequence[tuple[str, bytes]], **options: str | None
) -> PublishResult:
    from azlogs_pipeline.config import load_eventhub_settings
    from azlogs_pipeline.ingest.clients import make_producer
    from azlogs_pipeline.ingest.errors import AZURE_ERRORS, explain_publish
    from azlogs_pipeline.publish import publish_bodies

    settings = load_eventhub_settings()
    target = hub or settings.names[0]
    try:
        with make_producer(settings, target) as producer:
            result = publish_bodies(producer, bodies, **options)
    except AZURE_ERRORS as error:
        raise explain_publish(error, settings, target) from None
    print(
        f"published {result.events:,} events ({result.bytes:,} bytes) to {target} in {result.batches} batches"
    )
    for origin in result.too_large:
        print(f"not sent, larger than the hub's size limit: {origin}", file=sys.stderr)
    return result


def _publish(args: argparse.Namespace) -> int:
    from azlogs_pipeline.publish import read_bodies

    bodies: list[tuple[str, bytes]] = []
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            raise UsageError(
                f"{path} is not a file. Give NDJSON files (one body per line) or .json files."
            )
        bodies.extend(read_bodies(path))
    result = _publish_to_hub(
        args.hub, bodies, partition_key=args.partition_key, partition_id=args.partition_id
    )
    return 0 if not result.too_large else 1


def _run(_args: argparse.Namespace) -> int:
    from azlogs_pipeline.alerts.status import pass_line
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.instance import open_instance
    from azlogs_pipeline.lake.parquet import sweep_temp_files
    from azlogs_pipeline.lake.paths import lake_root, scratch_dir
    from azlogs_pipeline.lake.sessions import sweep_spill_dirs
    from azlogs_pipeline.progress import run_display
    from azlogs_pipeline.run_slots import fail_dead_runs
    from azlogs_pipeline.runner import (
        ReportRun,
        build_all,
        drain_all,
        lake_plan,
        not_drained,
        report_and_alert,
    )
    from azlogs_pipeline.stopping import StopRequest

    settings = load_settings()
    builds: list[BuildRun] = []
    reports: list[ReportRun] = []
    alerts: dict[str, object] | None = None
    with StopRequest() as stop, run_display() as display:
        with open_instance(settings.data_dir) as instance:
            for dead in fail_dead_runs(instance):
                display.line(
                    f"marked failed: run {dead.run_id} ({dead.partition_key or 'no partition'}) "
                    f"of pid {dead.process.pid}, which is gone; its pool slots are free again"
                )
            swept = sweep_temp_files(lake_root(settings.data_dir))
            swept += sweep_spill_dirs(scratch_dir(settings.data_dir))
            if swept:
                display.line(
                    f"removed {swept} temporary files that killed writers left in the lake "
                    "and its scratch directory"
                )
            drains = drain_all(instance, settings, listener=display.listen, stop=stop)
        for line in _drain_lines(drains):
            display.line(line)
        if not stop.requested.is_set():
            plan = lake_plan(settings.data_dir)
            display.builds(len(plan.table_hours), 0)  # days follow from the hours built

            build_lines = BuildLines()

            def listen(name: str, message: dict[str, Any]) -> None:
                display.listen(name, message)
                if "build" in message:
                    display.line(build_lines.line(message["build"]))

            builds = build_all(settings.data_dir, listener=listen, stop=stop)
        if not stop.requested.is_set():
            reports, alerts = report_and_alert(
                settings.data_dir,
                _days_built(builds),
                alerts=bool(builds),
                listener=display.listen,
                stop=stop,
            )
    plan = lake_plan(settings.data_dir)
    if stop.requested.is_set():
        print(
            f"interrupted ({stop.signal_name}): "
            f"{sum(1 for d in drains if d.success)} of {len(drains)} partitions drained, "
            f"{len(plan.table_hours)} hours left to build; run `azlogs run` again",
            file=sys.stderr,
        )
        stop.exit_now()
    if any(build.success for build in builds):
        from azlogs_pipeline.summarize.report import print_report

        print("\nSummaries and detections (all hours in the lake):")
        print_report(settings.data_dir)
    for report in reports:
        if report.success:
            print(f"security report {report.day}: {report.path}")
        else:
            print(
                f"security report {report.day} failed (run {report.run_id}): {report.error}",
                file=sys.stderr,
            )
    if alerts is not None:
        print(pass_line(alerts))
    if plan.out_of_range:
        print(
            f"{len(plan.out_of_range)} hours with raw records are not partitions yet (or are "
            f"before AZLOGS_PARTITION_START), e.g. {plan.out_of_range[-1]}: their records stay in "
            "the raw lake and are built once their hour exists.",
            file=sys.stderr,
        )
    undrained = not_drained(drains)
    for line in undrained:
        print(line, file=sys.stderr)
    failed = [run for run in builds if not run.success]
    for run in failed:
        print(f"{run.partition_key} failed (run {run.run_id}): {run.error}", file=sys.stderr)
    if plan.waiting:
        print(
            f"{plan.waiting} partitions still need building (oldest {plan.oldest}): "
            "run `azlogs run` again once the cause above is fixed.",
            file=sys.stderr,
        )
    reports_failed = not all(report.success for report in reports)
    return 1 if failed or undrained or plan.waiting or reports_failed else 0


def _days_built(builds: Sequence[BuildRun]) -> list[str]:
    """The days of the hours that were built (a range `first...last` covers every day between)."""
    days: set[str] = set()
    for build in builds:
        if build.success and build.kind != "days":
            first, _, last = build.partition_key.partition("...")
            day = datetime.strptime(first[:10], "%Y-%m-%d")
            while f"{day:%Y-%m-%d}" <= (last or first)[:10]:
                days.add(f"{day:%Y-%m-%d}")
                day += timedelta(days=1)
    return sorted(days)


_DAY_KEY_LENGTH = len("YYYY-MM-DD")


class BuildLines:
    """One line per build run (a range of hours, or of days), in the order they finish (hours
    before their days). A failed hour prints as an hour; a day built over failed hours is
    INCOMPLETE, never ok."""

    def __init__(self) -> None:
        self.failed_hours: list[tuple[str, str]] = []

    def line(self, build: Mapping[str, Any]) -> str:
        key, success = build["partition_key"], build["success"]
        kind = build.get("kind") or ("days" if len(key) == _DAY_KEY_LENGTH else "hours")
        first, _, last = key.partition("...")
        if kind != "days":
            what = "summaries of hour" if kind == "summaries" else "hours" if last else "hour"
            if not success:
                self.failed_hours.append((first, last or first))
                return f"{what} {key} FAILED"
            from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES

            findings = sum(build["summary_rows"].get(family, 0) for family in DETECTION_FAMILIES)
            return f"{what} {key} ok: {sum(build['rows'].values()):,} table rows, {findings} detections"
        missing = sorted(
            f"{start}...{end}" if end != start else start
            for start, end in self.failed_hours
            if start[:_DAY_KEY_LENGTH] <= (last or first) and end[:_DAY_KEY_LENGTH] >= first
        )
        state = "FAILED" if not success else ("INCOMPLETE" if missing else "ok")
        daily = ", ".join(f"{name} {n:,} rows" for name, n in sorted(build["summary_rows"].items()))
        what = "days" if last else "day"
        line = f"{what} {key} {state}: {daily or 'no rows'}"
        if missing and success:
            line += f" (without the failed hours {', '.join(missing)}: rebuild the day after them)"
        return line


def _drain_lines(runs: list[DrainRun]) -> list[str]:
    lines = [f"{'partition':24} {'status':16} {'events':>8} {'records':>9} {'dead':>6} {'lag':>7}"]
    for run in runs:
        meta = run.metadata
        status = str(meta.get("status", "drained")) if run.success else "FAILED"
        if run.interrupted:
            status = "interrupted"
        lines.append(
            f"{run.partition_key:24} {status:16} {meta.get('events', 0):>8} "
            f"{meta.get('records', 0):>9} {meta.get('dead_letters', 0):>6} "
            f"{meta.get('lag_after', '?'):>7}"
        )
    return lines


def _status(_args: argparse.Namespace) -> int:
    from azlogs_pipeline.config import load_settings
    from azlogs_pipeline.ingest.status import partition_statuses
    from azlogs_pipeline.instance import open_instance
    from azlogs_pipeline.runner import last_drains

    settings = load_settings()
    statuses = partition_statuses(settings)
    with open_instance(settings.data_dir) as instance:
        drained = last_drains(instance)
    print(
        f"{'partition':24} {'checkpoint seq':>14} {'offset':>12} {'last enqueued':>13} "
        f"{'lag':>7}  last drain (UTC)"
    )
    for item in statuses:
        key = eventhub_partition_key(item.eventhub, item.partition_id)
        seq = "-" if item.checkpoint_sequence_number is None else item.checkpoint_sequence_number
        last = "-" if item.is_empty else item.last_enqueued_sequence_number
        when = drained.get(key)
        print(
            f"{key:24} {seq:>14} {item.checkpoint_offset or '-':>12} {last:>13} {item.lag:>7}  "
            + (f"{when:%Y-%m-%d %H:%M:%S}" if when else "never")
        )
    from azlogs_pipeline.alerts.status import status_lines
    from azlogs_pipeline.config import load_alert_settings

    for line in status_lines(settings.data_dir, load_alert_settings()):
        print(line)
    _print_build_status(settings)
    return 0


def _print_build_status(settings: Settings) -> None:
    """What the lake says waits to be built, and the hours that are no partition yet."""
    from azlogs_pipeline.runner import lake_plan

    plan = lake_plan(settings.data_dir)
    summaries = plan.waiting - len(plan.table_hours)
    print(
        f"\nbuilds waiting: {len(plan.table_hours)} table hours, {summaries} summary partitions"
        + (f" (oldest {plan.oldest})" if plan.oldest else "")
    )
    if plan.out_of_range:
        print(
            f"hours outside the partitions: {len(plan.out_of_range)} "
            f"({plan.out_of_range[0]} .. {plan.out_of_range[-1]}; built once their hour exists)"
        )


def _open_catalog() -> duckdb.DuckDBPyConnection:
    from azlogs_pipeline.config import load_data_dir
    from azlogs_pipeline.lake.read_only import connect_read_only

    try:
        return connect_read_only(load_data_dir())
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from exc


def _sql(args: argparse.Namespace) -> int:
    from azlogs_pipeline.desk.results import QueryFailed, run_script
    from azlogs_pipeline.lake.read_only import ReadOnlyError

    if sum(x is not None for x in (args.query, args.file, args.schema)) > 1:
        raise UsageError("give one of: a statement, -f FILE.sql, --schema [VIEW]")
    if args.schema is not None:
        return _schema(args.schema or None)
    if args.file:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"{path} is not a file: give -f a file of SQL statements")
        sql = path.read_text(encoding="utf-8")
    elif args.query is not None:
        sql = args.query
    elif not sys.stdin.isatty():
        sql = sys.stdin.read()
    else:
        return _shell()
    with _open_catalog() as con:
        try:
            run_script(con, sql, args.format, sys.stdout)
        except (ReadOnlyError, QueryFailed) as exc:
            raise UsageError(str(exc)) from exc
    return 0


def _schema(view: str | None) -> int:
    from azlogs_pipeline.desk.schema import UnknownView, describe

    with _open_catalog() as con:
        try:
            describe(con, view, sys.stdout)
        except UnknownView as exc:
            raise UsageError(str(exc)) from exc
    return 0


def _shell() -> int:
    from azlogs_pipeline.config import load_sql_history
    from azlogs_pipeline.desk.schema import UnknownView, describe
    from azlogs_pipeline.desk.shell import Shell

    def schema(con: duckdb.DuckDBPyConnection, view: str | None, out: TextIO) -> None:
        try:
            describe(con, view, out)
        except UnknownView as exc:
            print(f"Error: {exc}", file=out)

    with _open_catalog() as con:
        return Shell(con, load_sql_history(), schema).run()


def _query(args: argparse.Namespace) -> int:
    from azlogs_pipeline.desk.results import QueryFailed, print_rows, run_bound
    from azlogs_pipeline.queries import PARAMETERS, QueryError, bind, ready_queries, ready_query

    if args.name == "list":
        rows = [
            (q.name, q.usage().removeprefix(f"azlogs query {q.name}").strip(), q.title)
            for q in ready_queries()
        ]
        print_rows(["name", "options", "answers"], rows, args.format)
        return 0
    try:
        query = ready_query(args.name)
        params = bind(query, {name: getattr(args, name) for name in PARAMETERS}, datetime.now(UTC))
    except QueryError as exc:
        raise UsageError(str(exc)) from exc
    if args.sql:
        print(query.sql + ";")
        return 0
    with _open_catalog() as con:
        try:
            run_bound(con, query.sql, params, args.format, sys.stdout)
        except QueryFailed as exc:
            raise UsageError(f"{query.name}: {exc}") from exc
    return 0


def _report(args: argparse.Namespace) -> int:
    from azlogs_pipeline.config import load_data_dir
    from azlogs_pipeline.daily_report import write_daily_report

    try:
        result = write_daily_report(load_data_dir(), args.day, Path(args.out) if args.out else None)
    except (ValueError, FileNotFoundError) as exc:
        raise UsageError(str(exc)) from exc
    print(
        f"security report {result.day}: {result.signins:,} sign-ins, {result.findings} findings, "
        f"{len(result.charts)} charts, {result.bytes_written:,} bytes"
    )
    print(result.path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="azlogs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    stack = commands.add_parser("stack", help="start, stop or inspect the offline local stack")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument(
        "--hub", action="append", help="Event Hub to create (repeatable; default adlogs)"
    )
    stack.add_argument("--partitions", type=int, default=4)
    stack.add_argument("--eventhubs-port", type=int, default=5672)
    stack.add_argument("--blob-port", type=int, default=10000)
    stack.add_argument(
        "--dir", default=".azlogs-stack", help="where the stack keeps its data and state"
    )
    stack.set_defaults(handler=_stack)

    gen = commands.add_parser("generate", help="write or publish synthetic Entra and Activity logs")
    gen.add_argument("--records", type=int, default=10_000)
    gen.add_argument("--hours", type=int, default=24)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--start", help="first hour (ISO 8601, UTC if no zone); default: HOURS ago")
    gen.add_argument("--out", help="NDJSON file to write (one body per line)")
    gen.add_argument("--publish", action="store_true", help="send the bodies to the Event Hub")
    gen.add_argument(
        "--archive",
        action="store_true",
        help="write the records as a storage-account archive (insights-logs-* containers) for "
        "the archive_raw backfill",
    )
    gen.add_argument("--hub", help="Event Hub to publish to (default: the first configured)")
    gen.add_argument("--malformed-rate", type=float, default=0.0)
    gen.set_defaults(handler=_generate)

    pub = commands.add_parser("publish", help="send NDJSON or .json bodies to the Event Hub")
    pub.add_argument("files", nargs="+")
    pub.add_argument("--hub", help="Event Hub to publish to (default: the first configured)")
    target = pub.add_mutually_exclusive_group()
    target.add_argument("--partition-key")
    target.add_argument("--partition-id")
    pub.set_defaults(handler=_publish)

    run = commands.add_parser(
        "run",
        help="one full pass now: drain every Event Hub partition, then build the hours it "
        "touched (recorded in Dagster)",
    )
    run.set_defaults(handler=_run)

    status = commands.add_parser(
        "status", help="per hub and partition: checkpoint, last enqueued, lag, last drain"
    )
    status.set_defaults(handler=_status)

    sql = commands.add_parser(
        "sql",
        help="query the catalog (azlogs.duckdb) read-only: a statement, a file, standard "
        "input, or with none of them an interactive session",
    )
    sql.add_argument("query", nargs="?", help="SQL statement(s) to run")
    sql.add_argument("-f", "--file", help="run the statements of this .sql file")
    sql.add_argument(
        "--schema",
        nargs="?",
        const="",
        metavar="VIEW",
        help="print every view's columns (or VIEW's) with what each means, then exit",
    )
    sql.add_argument("--format", choices=FORMATS, default="table")
    sql.set_defaults(handler=_sql)

    from azlogs_pipeline.queries import PARAMETERS

    query = commands.add_parser(
        "query",
        help="run a ready query by name (`azlogs query list`; docs/queries.md)",
    )
    query.add_argument("name", help="ready query name, or `list`")
    for parameter in PARAMETERS.values():
        query.add_argument(f"--{parameter.name}", metavar=parameter.metavar, help=parameter.help)
    query.add_argument("--format", choices=FORMATS, default="table")
    query.add_argument("--sql", action="store_true", help="print the query's SQL, run nothing")
    query.set_defaults(handler=_query)

    report = commands.add_parser(
        "report", help="write the daily security report of a UTC day: one self-contained HTML page"
    )
    report.add_argument("--day", required=True, help="the UTC day, YYYY-MM-DD")
    report.add_argument(
        "--out", help="HTML file to write (default <data dir>/reports/security-report-DAY.html)"
    )
    report.set_defaults(handler=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `azlogs` console script: every error azlogs explains (`AzlogsError`)
    is one line on stderr and exit status 2, never a traceback."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except AzlogsError as exc:
        print(f"azlogs: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
