"""The ``alvin-integration`` command: mock-backend, doctor, demo, spool tools, sync-metadata, reconcile,
lineage."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import time
from datetime import timedelta
from typing import Any, Iterator, List, Optional, TextIO

from alvin_integration import __version__
from alvin_integration.redact import redact_text

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_span(text: str) -> timedelta:
    """``90m``, ``24h``, ``7d``, ``3600`` (seconds) as a timedelta; ValueError otherwise."""
    match = _SPAN.match(text)
    if match is None:
        raise ValueError(f"not a time span: {text!r} (write it as 90m, 24h or 7d)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def _mock_backend(args: argparse.Namespace) -> int:
    from alvin_integration.mock_backend.server import make_server

    server = make_server(args.host, args.port, args.db, args.api_key)
    key_rule = "checking X-API-KEY against --api-key" if args.api_key else "accepting any non-empty X-API-KEY"
    print(f"mock Alvin API on {server.url} (db: {args.db}, {key_rule})", flush=True)
    print(f"lineage explorer: {server.url}/ (runs) and {server.url}/lineage (graph)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _doctor(args: argparse.Namespace) -> int:
    from alvin_integration.doctor import run_doctor

    return run_doctor(timeout=args.timeout, dags_folder=args.dags_folder)


def _spool(args: argparse.Namespace) -> int:
    from alvin_integration.circuit import SharedHealth
    from alvin_integration.config import load_settings
    from alvin_integration.spool import Spool
    from alvin_integration.spool_status import describe_status

    loaded = load_settings()
    if loaded.settings is None:
        print(loaded.summary(), file=sys.stderr)
        return 1
    settings = loaded.settings
    if args.action == "status":
        status = Spool(settings.spool_dir, settings.spool_max_bytes).status()
        for line in describe_status(status, loaded.spool_dir_origin):
            print(line)
        print(SharedHealth(settings.spool_dir).describe())
        return 0
    return _flush_spool(settings, args.timeout)


def _flush_spool(settings: object, timeout: float, delivered_before: int = 0, dead_before: int = 0) -> int:
    from alvin_integration.emitter import Emitter
    from alvin_integration.spool_status import describe_status

    emitter = Emitter(settings)  # type: ignore[arg-type]
    deadline = time.monotonic() + timeout
    complete = False
    try:
        while time.monotonic() < deadline and not emitter.sender.breaker.is_open():
            complete = emitter.sender.drain_once(timeout=deadline - time.monotonic())
            if complete:
                break
    finally:
        emitter.close(timeout=1)
    delivered, dead = delivered_before + emitter.sender.delivered, dead_before + emitter.sender.dead_lettered
    print(f"delivered {delivered} event(s), {dead} moved to dead letters")
    for line in describe_status(emitter.spool.status()):
        print(line)
    print(emitter.sender.health.describe())
    if not complete:
        print("the spool could not be emptied now (see alvin-integration doctor)", file=sys.stderr)
        return 1
    return 0


def _airflow_settings(command: str) -> Optional[object]:
    """This process's settings once Airflow is imported; None (said why) if either is missing."""
    from alvin_integration.config import load_settings

    loaded = load_settings()
    if loaded.settings is None:
        print(loaded.summary(), file=sys.stderr)
        return None
    try:
        # Airflow first, as in any Airflow process: its import sets up its settings and may load
        # our [lineage] backend, which must then find Airflow's import under way, not ours.
        import airflow  # noqa: F401
    except ImportError as exc:
        print(f"{command} needs Airflow in this Python environment ({exc})", file=sys.stderr)
        return None
    return loaded.settings


def _deliver_then_drain(settings: object, timeout: float) -> int:
    """Deliver this process's events, release its segment, then drain whatever else is waiting."""
    from alvin_integration.emitter import get_emitter, reset_emitter

    emitter = get_emitter()
    delivered, dead = 0, 0
    if emitter is not None:
        emitter.flush(timeout)
        delivered, dead = emitter.sender.delivered, emitter.sender.dead_lettered
    reset_emitter()
    return _flush_spool(settings, timeout, delivered, dead)


def _sync_metadata(args: argparse.Namespace) -> int:
    settings = _airflow_settings("sync-metadata")
    if settings is None:
        return 1
    from alvin_integration.producers.airflow.compat import parse_dags
    from alvin_integration.producers.airflow.dag_definitions import sync_dags

    dags, failed = parse_dags(args.dags_folder)
    result = sync_dags(dags, force=args.force)
    if result is None:
        print("reporting is off in this process (see alvin-integration doctor)", file=sys.stderr)
        return 1
    print(
        f"{len(dags)} DAG(s): {result.sent} definition(s) spooled in {result.pages} page(s), "
        f"{result.unchanged} unchanged since last sent"
    )
    if result.unsent:
        print(
            f"{result.unsent} definition(s) not spooled ({result.error}); the next sync-metadata sends them",
            file=sys.stderr,
        )
    for path in failed:
        print(f"not parsed (fix the import error Airflow shows for it): {path}", file=sys.stderr)
    status = _deliver_then_drain(settings, args.timeout)
    return 1 if failed or result.unsent else status


def _reconcile(args: argparse.Namespace) -> int:
    try:
        since = parse_span(args.since or ("30d" if args.backfill else "24h"))
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return 2
    settings = _airflow_settings("reconcile")
    if settings is None:
        return 1
    from alvin_integration.emitter import get_emitter
    from alvin_integration.producers.airflow.reconcile import reconcile
    from alvin_integration.producers.airflow.report import host_of

    emitter = get_emitter()
    if emitter is None:
        print("reporting is off in this process (see alvin-integration doctor)", file=sys.stderr)
        return 1
    lineage = _definitions(args.dags_folder, emitter.settings.extractors) if args.backfill else None
    dry_run = (lambda event: print(redact_text(_event_line(event)))) if args.dry_run else None
    try:
        result = reconcile(
            emitter,
            host_of(emitter),
            since,
            args.dag_id or (),
            lineage=lineage,
            page_size=args.page_size,
            pace=lambda: _paced(emitter, args.timeout),
            dry_run=dry_run,
        )
    except Exception as exc:  # the metadata database is not reachable, or not migrated
        cause = getattr(exc, "orig", None) or exc  # SQLAlchemy's wrapper names the statement too
        what = f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0]}"
        print(
            f"reconcile could not read Airflow's metadata database ({what}); check that this "
            "environment's Airflow settings name it ([database] sql_alchemy_conn) and that it is migrated",
            file=sys.stderr,
        )
        return 1
    span = args.since or ("30d" if args.backfill else "24h")
    print(f"since {span} ago{' (dry run: nothing spooled)' if args.dry_run else ''}: {result.summary()}")
    if args.dry_run:
        return 0
    if result.stopped:
        print(result.stopped, file=sys.stderr)
        _deliver_then_drain(settings, 0.0)
        return 1
    return _deliver_then_drain(settings, args.timeout)


def _definitions(dags_folder: Optional[str], extractors: Optional[str]) -> Any:
    """The DAG bag's definitions that rebuild each try's lineage (``reconcile --backfill``)."""
    from alvin_integration.producers.airflow.backfill import DefinitionLineage
    from alvin_integration.producers.airflow.compat import parse_dags

    with contextlib.redirect_stdout(sys.stderr):  # a DAG file's prints stay off the command's output
        dags, failed = parse_dags(dags_folder)
    for path in failed:
        print(f"not parsed, its tries go without lineage (fix its import error): {path}", file=sys.stderr)
    return DefinitionLineage(dags, extractors)


def _paced(emitter: Any, timeout: float) -> Optional[str]:
    """Wait until the API has taken what this process spooled (at its pace: the sender honours
    Retry-After and the circuit); why reconcile should stop, if it did not within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not emitter.flush(max(0.0, min(5.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            return (
                f"reconcile stopped: the Alvin API did not take the last page's events within {timeout:g} s "
                "(they stay spooled); run the same command again later to go on: what was delivered is "
                "not sent again"
            )
        time.sleep(0.5)
    return None


def _event_line(event: Any) -> str:
    """One event of a dry run: its type, job, try and time, and its datasets."""
    alvin = event.run.facets.get("alvin")
    details = getattr(alvin, "details", {}) or {}
    try_number = f" try {details['try_number']}" if "try_number" in details else ""
    names = [
        f"{side} {', '.join(f'{d.namespace}/{d.name}' for d in datasets)}"
        for side, datasets in (("in", event.inputs), ("out", event.outputs))
        if datasets
    ]
    when = getattr(event.event_time, "isoformat", lambda: str(event.event_time))()
    return f"{event.event_type} {event.job.name}{try_number} at {when}" + (
        f": {'; '.join(names)}" if names else ""
    )


@contextlib.contextmanager
def _output_apart() -> Iterator[TextIO]:
    """Yield where the command's output goes while anything else written to stdout (Airflow's log
    lines, a DAG file's prints) goes to stderr, so that ``--format json`` stays parseable."""
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # not a file (a test's capture)
        output = sys.stdout
        with contextlib.redirect_stdout(sys.stderr):
            yield output
        return
    saved = os.dup(fd)
    out = os.fdopen(os.dup(fd), "w")
    os.dup2(sys.stderr.fileno(), fd)
    try:
        yield out
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)
        out.close()


def _lineage(args: argparse.Namespace) -> int:
    with _output_apart() as out:
        try:
            import airflow  # noqa: F401  # first, as in any Airflow process (see _airflow_settings)
        except ImportError as exc:
            print(f"lineage needs Airflow in this Python environment ({exc})", file=sys.stderr)
            return 1
        from alvin_integration.producers.airflow.compat import parse_dags
        from alvin_integration.producers.airflow.preview import (
            as_json,
            as_table,
            coverage,
            extractors_setting,
            preview_dags,
        )

        dags, failed = parse_dags(args.dags_folder)
        previews = preview_dags(dags, tuple(args.dag_id or ()), extractors_setting(os.environ))
        print(as_json(previews) if args.format == "json" else as_table(previews), file=out, flush=True)
    for path in failed:
        print(f"not parsed (fix the import error Airflow shows for it): {path}", file=sys.stderr)
    if args.dag_id and not previews:
        print(f"no DAG {', '.join(args.dag_id)} in the DAG bag", file=sys.stderr)
        return 1
    if args.fail_under is not None and coverage(previews) < args.fail_under:
        print(
            f"{coverage(previews):.1f}% of tasks have lineage, under --fail-under {args.fail_under:g}%",
            file=sys.stderr,
        )
        return 1
    return 1 if failed else 0


def _demo(args: argparse.Namespace) -> int:
    from alvin_integration.demo import run_demo

    return run_demo(keep=args.keep, serve=not args.no_serve)


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(
        prog="alvin-integration",
        description="Report Apache Airflow lineage to the Alvin data platform.",
    )
    parser.add_argument("--version", action="version", version=f"alvin-integration {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    mock = commands.add_parser("mock-backend", help="run a local stand-in for the Alvin API")
    mock.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    mock.add_argument("--port", type=int, default=9000, help="port to listen on (default 9000; 0 = any free)")
    mock.add_argument("--db", default=":memory:", help="SQLite file to keep events in (default: memory)")
    mock.add_argument(
        "--api-key",
        default=os.environ.get("ALVIN_MOCK_API_KEY"),
        help="the only X-API-KEY accepted (default $ALVIN_MOCK_API_KEY, else any non-empty key)",
    )
    mock.set_defaults(func=_mock_backend)

    doctor = commands.add_parser("doctor", help="check settings, network, API key and spool")
    doctor.add_argument("--timeout", type=float, default=5.0, help="seconds per network check")
    doctor.add_argument(
        "--dags-folder", help="also count the DAGs and tasks of this folder the reporting policy keeps"
    )
    doctor.set_defaults(func=_doctor)

    demo = commands.add_parser("demo", help="run the example DAG through this Airflow to a local mock API")
    demo.add_argument("--keep", action="store_true", help="keep the temporary Airflow home")
    demo.add_argument(
        "--no-serve", action="store_true", help="exit after the summary instead of serving the explorer"
    )
    demo.set_defaults(func=_demo)

    spool = commands.add_parser("spool", help="inspect or deliver the local event spool")
    spool.add_argument("action", choices=("status", "flush"))
    spool.add_argument("--timeout", type=float, default=60.0, help="flush: give up after this many seconds")
    spool.set_defaults(func=_spool)

    sync = commands.add_parser("sync-metadata", help="send the DAG definitions that changed since last sent")
    sync.add_argument("--dags-folder", help="where to parse DAGs from (default: Airflow's dags_folder)")
    sync.add_argument("--force", action="store_true", help="send every definition, changed or not")
    sync.add_argument("--timeout", type=float, default=60.0, help="stop delivering after this many seconds")
    sync.set_defaults(func=_sync_metadata)

    reconcile = commands.add_parser(
        "reconcile", help="send what Airflow's metadata database says ran and this machine never delivered"
    )
    reconcile.add_argument(
        "--since", help="how far back to look: 90m, 24h, 7d (default 24h; 30d with --backfill)"
    )
    reconcile.add_argument(
        "--dag-id", action="append", metavar="DAG_ID", help="only this DAG (repeat for more; default all)"
    )
    reconcile.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="stop when the API has not taken a page's events (at the end: all) within this many seconds",
    )
    reconcile.add_argument(
        "--backfill",
        action="store_true",
        help="onboarding: also rebuild each try's lineage from its DAG's current definition (no task runs, "
        "no connection opens)",
    )
    reconcile.add_argument(
        "--dags-folder", help="with --backfill: where to parse DAGs from (default: Airflow's)"
    )
    reconcile.add_argument(
        "--dry-run", action="store_true", help="print the events that would be sent; spool nothing"
    )
    reconcile.add_argument(
        "--page-size", type=int, default=500, help="task tries read from the metadata database per page"
    )
    reconcile.set_defaults(func=_reconcile)

    lineage = commands.add_parser(
        "lineage",
        help="print the datasets each task will report on START, or why none (no task runs, nothing opens)",
    )
    lineage.add_argument("--dags-folder", help="where to parse DAGs from (default: Airflow's dags_folder)")
    lineage.add_argument(
        "--dag-id", action="append", metavar="DAG_ID", help="only this DAG (repeat for more; default all)"
    )
    lineage.add_argument(
        "--format", choices=("table", "json"), default="table", help="output (default table)"
    )
    lineage.add_argument(
        "--fail-under",
        type=float,
        metavar="PCT",
        help="exit 1 when under PCT%% of the tasks have lineage (as does a DAG file that fails to parse)",
    )
    lineage.set_defaults(func=_lineage)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
