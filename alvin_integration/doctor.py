"""``alvin-integration doctor``: checks each layer between this machine and the Alvin API.

One line per check; each failure says how to fix it. The checks stop at the first layer that fails
(no point testing HTTP when DNS fails), except the spool, which is local and always checked.
"""

from __future__ import annotations

import configparser
import os
import socket
import tempfile
import time
from dataclasses import dataclass
from enum import Enum
from typing import Callable, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from urllib3.exceptions import HTTPError, SSLError

from alvin_integration.client import AlvinClient
from alvin_integration.config import LoadedSettings, Settings, load_settings, shown_settings
from alvin_integration.emitter import LINEAGE_PATH
from alvin_integration.redact import redact_text
from alvin_integration.spool import Spool
from alvin_integration.spool_dir import SpoolDir, SpoolUnusable, check_spool_directory
from alvin_integration.spool_status import describe_status


class Status(str, Enum):
    """How one doctor check came out (printed as its value: OK, WARN, FAIL, SKIP)."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass
class Check:
    """The result of one check."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    def lines(self) -> List[str]:
        """How the check is printed."""
        out = [f"{self.status.value:<4} {self.name:<9} {self.detail}"]
        if self.fix:
            out.append(f"{'':<14} fix: {self.fix}")
        return out


def _host_port(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def check_settings(loaded: LoadedSettings) -> Check:
    """Are the required settings present and valid?"""
    if loaded.disabled:
        return Check(
            "settings", Status.WARN, "ALVIN_DISABLED is true: nothing is reported", "unset ALVIN_DISABLED"
        )
    if loaded.settings is None:
        problems = "; ".join(str(p) for p in loaded.problems)
        return Check("settings", Status.FAIL, problems, "set the settings named above, then run doctor again")
    return Check("settings", Status.OK, shown_settings(loaded.settings, loaded.sources))


def check_transport(settings: Settings) -> List[Check]:
    """Warnings for a key that travels unencrypted or unverified."""
    checks = []
    if urlsplit(settings.url).scheme == "http":
        checks.append(
            Check(
                "settings",
                Status.WARN,
                "ALVIN_URL is http://: the API key travels unencrypted",
                "use https:// (plain http is for a local mock API only)",
            )
        )
    if not settings.verify_ssl:
        checks.append(
            Check(
                "settings",
                Status.WARN,
                "ALVIN_VERIFY_SSL is false: the API's certificate is not checked",
                "for a private CA set ALVIN_CA_BUNDLE instead (ALVIN_VERIFY_SSL=false is for tests)",
            )
        )
    return checks


def check_dns(settings: Settings) -> Check:
    """Does the API's host name resolve?"""
    host, port = _host_port(settings)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = sorted({str(info[4][0]) for info in infos})
    except socket.gaierror as exc:
        return Check(
            "dns",
            Status.FAIL,
            f"cannot resolve {host}: {exc}",
            "check the host in ALVIN_URL; from a Docker container use host.docker.internal to reach "
            "the host machine, or the compose service name (e.g. alvin_backend)",
        )
    return Check("dns", Status.OK, f"{host} -> {', '.join(addresses[:4])}")


def check_tcp(settings: Settings, timeout: float) -> Check:
    """Does a TCP connection to the API's port open?"""
    host, port = _host_port(settings)
    started = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        return Check(
            "tcp",
            Status.FAIL,
            f"cannot connect to {host}:{port}: {exc}",
            "is the Alvin API running and listening on that port? A firewall, VPC egress rule or "
            "proxy may block it; on Composer, check the environment's egress (NAT) settings",
        )
    return Check(
        "tcp", Status.OK, f"connected to {host}:{port} in {(time.monotonic() - started) * 1000:.0f} ms"
    )


def check_http(client: AlvinClient, timeout: float) -> Check:
    """Does the API answer HTTP (and TLS, for https)?"""
    try:
        answer = client.ask("GET", "/", timeout)
    except SSLError as exc:
        return Check(
            "http",
            Status.FAIL,
            f"TLS handshake failed: {exc}",
            "for a private CA set ALVIN_CA_BUNDLE to its PEM file (ALVIN_VERIFY_SSL=false only for tests)",
        )
    except (HTTPError, OSError) as exc:
        return Check(
            "http", Status.FAIL, f"no HTTP answer: {exc}", "check that ALVIN_URL points at the Alvin API"
        )
    if 300 <= answer.status < 400:
        where = answer.location or "nowhere"
        return Check(
            "http",
            Status.WARN,
            f"GET {client.settings.url}/ answered HTTP {answer.status}, a redirect to {where}",
            "set ALVIN_URL to the address the API is served at (events are never sent through a redirect)",
        )
    return Check("http", Status.OK, f"GET {client.settings.url}/ answered HTTP {answer.status}")


def check_api_key(client: AlvinClient, timeout: float) -> Check:
    """Does the API accept our key? (An empty event is sent: 400 means the key was accepted.)"""
    try:
        answer = client.ask("POST", LINEAGE_PATH, timeout, body=b"{}")
    except (HTTPError, OSError) as exc:
        return Check("api_key", Status.FAIL, f"POST {LINEAGE_PATH} failed: {exc}", "see the http check above")
    status = answer.status
    if status in (401, 403):
        return Check(
            "api_key",
            Status.FAIL,
            f"API key rejected (HTTP {status})",
            "create a key in the Alvin UI and set ALVIN_API_KEY to it (events stay spooled meanwhile)",
        )
    if 300 <= status < 400:
        return Check(
            "api_key",
            Status.FAIL,
            f"POST {client.url_for(LINEAGE_PATH)} was redirected (HTTP {status}) to "
            f"{answer.location or 'nowhere'}",
            "set ALVIN_URL to the address the API is served at (events are never sent through a redirect)",
        )
    if status in (404, 405):
        return Check(
            "api_key",
            Status.FAIL,
            f"{client.url_for(LINEAGE_PATH)} not found (HTTP {status})",
            "ALVIN_URL must be the API's base URL, without /api/v1",
        )
    if status >= 500:
        return Check(
            "api_key", Status.FAIL, f"the API answered HTTP {status}", "the Alvin API is unwell; try later"
        )
    return Check("api_key", Status.OK, f"key accepted (probe answered HTTP {status})")


def check_spool(settings: Settings, origin: str = "") -> List[Check]:
    """Is the spool writable, and what waits in it? ``origin``: why the directory is this one."""
    try:
        check_spool_directory(settings.spool_dir)  # created 0700, or ours
    except SpoolUnusable as exc:
        return [
            Check("spool", Status.FAIL, str(exc), "set ALVIN_SPOOL_DIR to a directory of the Airflow user")
        ]
    try:
        with tempfile.NamedTemporaryFile(dir=settings.spool_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return [
            Check(
                "spool",
                Status.FAIL,
                f"cannot write to {settings.spool_dir}: {exc}",
                "set ALVIN_SPOOL_DIR to a local directory the Airflow user can write",
            )
        ]
    status = Spool(settings.spool_dir, settings.spool_max_bytes).status()
    checks = [Check("spool", Status.OK, line) for line in describe_status(status, origin)]
    if status.dead_letters:
        checks.append(
            Check(
                "spool",
                Status.WARN,
                f"{status.dead_letters} event(s) were rejected by the API",
                f"see {SpoolDir(settings.spool_dir).dead_letter} for the reasons",
            )
        )
    if status.bytes > 0.8 * status.max_bytes:
        checks.append(Check("spool", Status.WARN, "the spool is over 80% full", "check the API checks above"))
    return checks


def check_delivery_mode(loaded: LoadedSettings) -> Check:
    """How a finishing try waits for delivery: on an ephemeral worker, or on a disk others share."""
    settings = loaded.settings
    if settings is not None and settings.ephemeral:
        why = loaded.sources.get("ephemeral", "")
        return Check(
            "delivery",
            Status.OK,
            f"ephemeral worker: waits for delivery at a try's end, up to ALVIN_FLUSH_TIMEOUT="
            f"{settings.flush_timeout:g}s ({why}); what is left then is lost with the worker, and said "
            "in the task log",
        )
    return Check(
        "delivery",
        Status.OK,
        "shared disk: a try's end waits only while the API answers fast; what is left stays spooled "
        "for the next process (a pod per try without AIRFLOW_IS_K8S_EXECUTOR_POD: set ALVIN_EPHEMERAL=true)",
    )


def check_policy(settings: Settings, dags_folder: Optional[str] = None) -> List[Check]:
    """The reporting policy in force, its ignored patterns, and (with ``dags_folder``) what it keeps."""
    from alvin_integration.policy import Policy

    policy = Policy.from_settings(
        settings.dags, settings.skip_operators, settings.send_sql, settings.send_stack_traces
    )
    checks = [Check("policy", Status.OK, policy.describe() + "; DAGs tagged alvin:off are left out")]
    checks += [Check("policy", Status.WARN, problem) for problem in policy.problems]
    if dags_folder is None:
        return checks
    from alvin_integration.producers.airflow.compat import parse_dags
    from alvin_integration.producers.airflow.selection import policy_reach

    dags, failed = parse_dags(dags_folder)
    reach = policy_reach(policy, dags)
    checks.append(
        Check(
            "policy",
            Status.OK,
            f"{dags_folder}: {reach.dags_kept} DAG(s) and {reach.tasks_kept} task(s) reported, "
            f"{reach.dags_left_out} DAG(s) and {reach.tasks_left_out} task(s) left out"
            + (f"; {len(failed)} file(s) not parsed" if failed else ""),
        )
    )
    checks += [
        Check(
            "policy", Status.WARN, f"ALVIN_DAGS pattern {pattern!r} matches no DAG or task in {dags_folder}"
        )
        for pattern in reach.unmatched
    ]
    return checks


def check_airflow(environ: Mapping[str, str]) -> List[Check]:
    """Which Airflow is installed, which adapter reports, and whether [lineage] backend fits it."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8
        return [Check("airflow", Status.SKIP, "cannot read package metadata")]
    try:
        installed = version("apache-airflow")
    except PackageNotFoundError:
        return [Check("airflow", Status.SKIP, "Airflow is not installed in this Python environment")]
    try:
        from alvin_integration.producers.airflow import version_compat
        from alvin_integration.producers.airflow.adapters import adapter_name, reporting_gaps
    except Exception as exc:  # Airflow installed but not importable here
        return [Check("airflow", Status.FAIL, f"apache-airflow {installed} does not import: {exc}")]
    checks = [Check("airflow", Status.OK, f"apache-airflow {installed}; adapter: {adapter_name()}")]
    checks += [Check("coverage", Status.WARN, gap) for gap in reporting_gaps()]
    backend = environ.get("AIRFLOW__LINEAGE__BACKEND")
    if backend is None:
        from alvin_integration.config import airflow_config_path

        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(airflow_config_path(environ))
        backend = parser.get("lineage", "backend", fallback="")
    backend = backend.strip()
    backend_class = version_compat.LINEAGE_BACKEND_CLASS
    if not version_compat.NEEDS_LINEAGE_BACKEND:
        note = "not needed on Airflow 2.3+ (the plugin reports)" + (f"; set to {backend}" if backend else "")
        checks.append(Check("backend", Status.OK, f"[lineage] backend {note}"))
    elif backend.startswith(backend_class):
        checks.append(Check("backend", Status.OK, f"[lineage] backend = {backend}"))
    else:
        checks.append(
            Check(
                "backend",
                Status.FAIL,
                f"[lineage] backend is {backend or 'not set'}; Airflow {installed} needs it to report",
                f"set [lineage] backend = {backend_class} (on Composer: the ...Composer class, as an "
                "Airflow configuration override)",
            )
        )
    return checks


def _guarded(name: str, run: Callable[[], List[Check]]) -> List[Check]:
    """A check's lines, or one Status.FAIL line saying what broke: doctor never prints a traceback."""
    try:
        return run()
    except Exception as exc:
        return [Check(name, Status.FAIL, f"the check itself failed: {type(exc).__name__}: {exc}", "")]


def run_doctor(
    environ: Optional[Mapping[str, str]] = None,
    timeout: float = 5.0,
    out: Callable[[str], None] = print,
    dags_folder: Optional[str] = None,
) -> int:
    """Run every check, print one line each, return 1 if any failed."""
    loaded = load_settings(environ)
    checks = [check_settings(loaded)]
    settings = loaded.settings
    if settings is not None:
        checks += _guarded("settings", lambda: check_transport(settings))
        client = AlvinClient(settings)
        layers: List[Tuple[str, Callable[[], Check]]] = [
            ("dns", lambda: check_dns(settings)),
            ("tcp", lambda: check_tcp(settings, timeout)),
            ("http", lambda: check_http(client, timeout)),
            ("api_key", lambda: check_api_key(client, timeout)),
        ]
        for name, layer in layers:
            checks += _guarded(name, lambda layer=layer: [layer()])  # type: ignore[misc]
            if checks[-1].status == Status.FAIL:
                break
        checks += _guarded("spool", lambda: check_spool(settings, loaded.spool_dir_origin))
        checks += _guarded("delivery", lambda: [check_delivery_mode(loaded)])
        checks += _guarded("policy", lambda: check_policy(settings, dags_folder))
    checks += _guarded("airflow", lambda: check_airflow(os.environ if environ is None else environ))
    for check in checks:
        for line in check.lines():
            out(redact_text(line))  # printed, not logged: mask here (a password in ALVIN_URL, say)
    failed = [c for c in checks if c.status == Status.FAIL]
    out(f"doctor: {len(checks) - len(failed)} ok, {len(failed)} failed")
    return 1 if failed else 0
