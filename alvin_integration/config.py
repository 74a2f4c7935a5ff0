"""Settings: read from ``ALVIN_*`` environment variables or the ``[alvin]`` section of airflow.cfg.

Precedence, highest first: ``ALVIN_<NAME>``, ``AIRFLOW__ALVIN__<NAME>``, ``[alvin] <name>`` in
airflow.cfg (``$AIRFLOW_CONFIG`` or ``$AIRFLOW_HOME/airflow.cfg``), the default. A missing or invalid
required setting never raises: the result carries problems, each with a stable id and the fix.

Defaults that depend on the host are decided here from the environment given, never registered by
importing a module: the spool directory is ``$AIRFLOW_HOME/alvin/spool``, except on Cloud Composer
(``$COMPOSER_ENVIRONMENT`` set), whose ``$AIRFLOW_HOME`` is a GCS FUSE mount without the file locks
the spool needs: there it is ``$TMPDIR/alvin/spool``. Every process (tasks, scheduler, the CLI,
doctor, reconcile) gets the same answer, whatever it imported first.
"""

from __future__ import annotations

import configparser
import os
import re
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

from alvin_integration.redact import register_secret

ERROR_MISSING = "alvin.E001"
ERROR_BAD_URL = "alvin.E002"
ERROR_BAD_NUMBER = "alvin.E003"
ERROR_BAD_BOOLEAN = "alvin.E004"
ERROR_BAD_PLATFORM_ID = "alvin.E005"
ERROR_BAD_CA_BUNDLE = "alvin.E006"
ERROR_BAD_API_KEY = "alvin.E007"
ERROR_BAD_SPOOL_DIR = "alvin.E008"

# What a number setting may be: (smallest, largest). Values that parse but cannot work (1e308
# seconds, a 1e-12 MB spool) are refused at load time, with the range, not later with a traceback.
NUMBER_RANGES: Dict[str, Tuple[float, float]] = {
    "spool_max_mb": (1.0, 1_048_576.0),  # 1 MB to 1 TB
    "http_timeout": (0.1, 600.0),
    "flush_timeout": (0.0, 600.0),
    "max_event_kb": (16.0, 65_536.0),
    "sql_start_wait_ms": (0.0, 60_000.0),
    "reconcile_interval": (0.0, 604_800.0),  # off, up to a week
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class SettingSpec:
    """One setting: its environment variable, its airflow.cfg key, default and meaning."""

    env: str
    key: str
    default: Optional[str]
    help: str
    required: bool = False


SPECS: Tuple[SettingSpec, ...] = (
    SettingSpec("ALVIN_URL", "url", None, "Base URL of the Alvin API, e.g. https://app.alvin.ai", True),
    SettingSpec("ALVIN_API_KEY", "api_key", None, "API key sent as X-API-KEY (never logged)", True),
    SettingSpec("ALVIN_PLATFORM_ID", "platform_id", None, "Alvin platform id of this Airflow", True),
    SettingSpec("ALVIN_DISABLED", "disabled", "false", "true switches the integration off"),
    SettingSpec(
        "ALVIN_SPOOL_DIR",
        "spool_dir",
        None,
        "Local outbox directory (default $AIRFLOW_HOME/alvin/spool; on Cloud Composer $TMPDIR/alvin/spool)",
    ),
    SettingSpec("ALVIN_SPOOL_MAX_MB", "spool_max_mb", "256", "Spool size cap; oldest events dropped past it"),
    SettingSpec("ALVIN_HTTP_TIMEOUT", "http_timeout", "10", "Seconds to connect and to read one response"),
    SettingSpec(
        "ALVIN_FLUSH_TIMEOUT",
        "flush_timeout",
        "5",
        "Seconds a finishing task may wait for delivery",
    ),
    SettingSpec(
        "ALVIN_MAX_EVENT_KB",
        "max_event_kb",
        "1024",
        "Largest event sent, in KB; larger ones are cut (SQL, column lineage, stack traces first)",
    ),
    SettingSpec(
        "ALVIN_SQL_START_WAIT_MS",
        "sql_start_wait_ms",
        "5",
        "Milliseconds a task's start waits for its SQL to be parsed; past it the end carries the tables",
    ),
    SettingSpec(
        "ALVIN_RECONCILE_INTERVAL",
        "reconcile_interval",
        "0",
        "Seconds between reconciles run by the scheduler (0: off; `alvin-integration reconcile` by hand)",
    ),
    SettingSpec(
        "ALVIN_EXTRACTORS",
        "extractors",
        None,
        "Lineage extractors of your own operators: comma-separated module:function paths",
    ),
    SettingSpec(
        "ALVIN_EPHEMERAL",
        "ephemeral",
        None,
        "true: this worker's disk ends with its task process (a pod per try), so a try's end "
        "waits up to ALVIN_FLUSH_TIMEOUT for delivery; default: detected (KubernetesExecutor "
        "pods, container executors)",
    ),
    SettingSpec("ALVIN_VERIFY_SSL", "verify_ssl", "true", "false turns TLS certificate checks off"),
    SettingSpec("ALVIN_CA_BUNDLE", "ca_bundle", None, "Path of a CA bundle for a private CA"),
    SettingSpec("ALVIN_VERBOSE_LOG", "verbose_log", "false", "true logs every delivery and stack traces"),
)
SPEC_BY_KEY: Dict[str, SettingSpec] = {spec.key: spec for spec in SPECS}


@dataclass(frozen=True)
class Settings:
    """Validated settings of one process."""

    url: str
    api_key: str = field(repr=False)
    platform_id: str
    spool_dir: str
    spool_max_mb: float = 256.0
    http_timeout: float = 10.0
    flush_timeout: float = 5.0
    max_event_kb: float = 1024.0
    sql_start_wait_ms: float = 5.0
    reconcile_interval: float = 0.0
    extractors: Optional[str] = None
    ephemeral: bool = False  # the spool ends with the process: a try's end waits for delivery
    verify_ssl: bool = True
    ca_bundle: Optional[str] = None
    verbose_log: bool = False

    @property
    def spool_max_bytes(self) -> int:
        """The spool size cap in bytes."""
        return int(self.spool_max_mb * 1024 * 1024)

    @property
    def tls_verify(self) -> bool | str:
        """The value for ``requests``' ``verify``: a CA bundle path, or on/off."""
        if self.ca_bundle:
            return self.ca_bundle
        return self.verify_ssl


@dataclass(frozen=True)
class Problem:
    """A setting that is missing or invalid, with a stable id and the fix in words."""

    code: str
    env: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


@dataclass
class LoadedSettings:
    """The outcome of reading settings: either usable settings, disabled, or problems."""

    settings: Optional[Settings]
    problems: List[Problem]
    sources: Dict[str, str]
    disabled: bool = False
    spool_dir_origin: str = ""  # why the spool directory is where it is, in words (doctor, spool status)

    @property
    def ok(self) -> bool:
        """Whether reporting can run."""
        return self.settings is not None and not self.disabled

    def summary(self) -> str:
        """One log line saying why reporting is off, naming every bad setting and its fix."""
        if self.disabled:
            return "alvin-integration is disabled by ALVIN_DISABLED; tasks are not reported."
        return "alvin-integration is not reporting (tasks run as usual): " + "; ".join(
            str(p) for p in self.problems
        )


def airflow_config_path(environ: Mapping[str, str]) -> str:
    """The airflow.cfg path Airflow itself would read."""
    if environ.get("AIRFLOW_CONFIG"):
        return environ["AIRFLOW_CONFIG"]
    return os.path.join(airflow_home(environ), "airflow.cfg")


def airflow_home(environ: Mapping[str, str]) -> str:
    """``$AIRFLOW_HOME``, or Airflow's default ``~/airflow``."""
    return os.path.expanduser(environ.get("AIRFLOW_HOME") or "~/airflow")


# Set by Cloud Composer in every process of an environment (the scheduler, workers, tasks, a shell
# on a worker): the one marker a process can read without importing Airflow.
COMPOSER_ENVIRONMENT_VARIABLE = "COMPOSER_ENVIRONMENT"


def is_composer_environment(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` is a Cloud Composer environment's (``$COMPOSER_ENVIRONMENT`` set)."""
    return bool((environ.get(COMPOSER_ENVIRONMENT_VARIABLE) or "").strip())


def temp_dir(environ: Mapping[str, str]) -> str:
    """The temporary directory ``environ`` names (``$TMPDIR``, ``$TEMP``, ``$TMP``), else Python's."""
    for name in ("TMPDIR", "TEMP", "TMP"):  # tempfile.gettempdir()'s order
        if environ.get(name):
            return os.path.abspath(environ[name])
    return tempfile.gettempdir()


def default_spool_dir(environ: Mapping[str, str]) -> str:
    """``$AIRFLOW_HOME/alvin/spool``; on Cloud Composer ``$TMPDIR/alvin/spool`` (local disk)."""
    # Decided from the environment alone (not Airflow's +composer version, which would need Airflow
    # imported): the CLI, doctor and every task process must name the same directory.
    if is_composer_environment(environ):
        return os.path.join(temp_dir(environ), "alvin", "spool")
    return os.path.join(airflow_home(environ), "alvin", "spool")


def default_spool_reason(environ: Mapping[str, str]) -> str:
    """Why the default spool directory is where it is, in words (doctor prints it)."""
    if is_composer_environment(environ):
        return "Cloud Composer: a local directory, since $AIRFLOW_HOME is a GCS FUSE mount"
    return "default: $AIRFLOW_HOME/alvin/spool"


# path -> ((mtime, size) the file had, its [alvin] section): airflow.cfg is some 2,000 lines,
# and a task process asks for the section several times (the flag, then the settings).
_sections: Dict[str, Tuple[Tuple[int, int], Dict[str, str]]] = {}
_ALVIN_HEADER = re.compile(r"^[ \t]*\[alvin\]", re.MULTILINE)


def read_alvin_section(path: str) -> Dict[str, str]:
    """The ``[alvin]`` section of an ini file, or nothing if the file or section is absent."""
    try:
        stat = os.stat(path)
    except OSError:
        return {}
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _sections.get(path)
    if cached is not None and cached[0] == version:
        return dict(cached[1])
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        if _ALVIN_HEADER.search(text):  # parsing the whole file costs a task process milliseconds
            parser.read_string(text, source=path)
    except (OSError, configparser.Error, UnicodeDecodeError):
        return {}
    section = (
        {key.lower(): value for key, value in parser.items("alvin")} if parser.has_section("alvin") else {}
    )
    _sections[path] = (version, section)
    return dict(section)


def _how_to_set(spec: SettingSpec) -> str:
    return (
        f"set the environment variable {spec.env} or '{spec.key}' in the [alvin] section of "
        f"airflow.cfg (on Cloud Composer: an environment variable, or the Airflow configuration "
        f"override section 'alvin', key '{spec.key}')"
    )


def _parse_bool(spec: SettingSpec, raw: str, problems: List[Problem]) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problems.append(
        Problem(
            ERROR_BAD_BOOLEAN,
            spec.env,
            f"{spec.env}={raw!r} is not true/false; {_how_to_set(spec)}",
        )
    )
    return spec.default in _TRUE


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


def _parse_number(spec: SettingSpec, raw: str, problems: List[Problem]) -> float:
    low, high = NUMBER_RANGES[spec.key]
    try:
        value = float(raw)
        if low <= value <= high:
            return value
    except ValueError:
        pass
    problems.append(
        Problem(
            ERROR_BAD_NUMBER,
            spec.env,
            f"{spec.env}={raw.strip()[:40]!r} is not a number from {_plain(low)} to {_plain(high)}; "
            f"{_how_to_set(spec)}",
        )
    )
    return float(spec.default or 1)


def _check_url(raw: str, problems: List[Problem]) -> str:
    spec = SPEC_BY_KEY["url"]
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        if parts.password:
            register_secret(parts.password)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        valid = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and not any(ch.isspace() or ord(ch) < 32 for ch in url)
        )
    except ValueError:
        valid = False
    if not valid:
        shown = url if len(url) < 80 else url[:77] + "..."
        problems.append(
            Problem(
                ERROR_BAD_URL,
                spec.env,
                f"{spec.env}={shown!r} is not an http(s) URL with a host "
                f"(expected e.g. https://app.alvin.ai, a port up to 65535, no spaces); {_how_to_set(spec)}",
            )
        )
    return url


# Set by executors that run each try in a container of its own, whose disk (the spool with it)
# ends with the try: the KubernetesExecutor's pod template (Airflow 2 and 3), and the ECS, AWS
# Batch and other container executors of the providers.
EPHEMERAL_WORKER_VARIABLES: Tuple[str, ...] = ("AIRFLOW_IS_K8S_EXECUTOR_POD", "AIRFLOW_IS_EXECUTOR_CONTAINER")


def ephemeral_worker_marker(environ: Mapping[str, str]) -> Optional[str]:
    """The variable that says this process runs in a container per try, or None.

    Other runners with a container per try say so with ``ALVIN_EPHEMERAL=true``; a spool under a
    container's ``/tmp`` is no sign of it (a Celery worker's may outlive many tries).
    """
    for name in EPHEMERAL_WORKER_VARIABLES:
        if environ.get(name, "").strip().lower() in _TRUE:
            return name
    return None


def is_disabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Only the ``ALVIN_DISABLED`` flag, read as cheaply as possible (before anything else loads)."""
    env = os.environ if environ is None else environ
    raw = env.get("ALVIN_DISABLED") or env.get("AIRFLOW__ALVIN__DISABLED")
    if raw is None:
        raw = read_alvin_section(airflow_config_path(env)).get("disabled", "")
    return raw.strip().lower() in _TRUE


def load_settings(
    environ: Optional[Mapping[str, str]] = None, config_path: Optional[str] = None
) -> LoadedSettings:
    """Read and validate the settings; never raises for bad values."""
    env = os.environ if environ is None else environ
    section = read_alvin_section(config_path or airflow_config_path(env))
    raw: Dict[str, str] = {}
    sources: Dict[str, str] = {}
    for spec in SPECS:
        for source, value in (
            (f"env {spec.env}", env.get(spec.env)),
            (
                f"env AIRFLOW__ALVIN__{spec.key.upper()}",
                env.get(f"AIRFLOW__ALVIN__{spec.key.upper()}"),
            ),
            (f"airflow.cfg [alvin] {spec.key}", section.get(spec.key)),
            ("default", spec.default),
        ):
            if value is not None and (value.strip() or source == "default"):
                raw[spec.key] = value
                sources[spec.key] = source
                break

    register_secret(raw.get("api_key"))
    problems: List[Problem] = []
    if _parse_bool(SPEC_BY_KEY["disabled"], raw["disabled"], problems):
        return LoadedSettings(None, [], sources, disabled=True)

    for spec in SPECS:
        if spec.required and not raw.get(spec.key, "").strip():
            problems.append(Problem(ERROR_MISSING, spec.env, f"{spec.env} is not set; {_how_to_set(spec)}"))

    url = _check_url(raw["url"], problems) if raw.get("url", "").strip() else ""
    platform_id = raw.get("platform_id", "").strip()
    if platform_id and any(ch.isspace() for ch in platform_id):
        spec = SPEC_BY_KEY["platform_id"]
        problems.append(
            Problem(
                ERROR_BAD_PLATFORM_ID,
                spec.env,
                f"{spec.env}={platform_id!r} contains white space; use the platform id shown in "
                f"the Alvin UI; {_how_to_set(spec)}",
            )
        )
    api_key = raw.get("api_key", "").strip()
    if api_key and not all(32 < ord(ch) < 127 for ch in api_key):
        spec = SPEC_BY_KEY["api_key"]
        problems.append(
            Problem(
                ERROR_BAD_API_KEY,
                spec.env,
                f"{spec.env} holds white space, control or non-ASCII characters (an HTTP header "
                f"cannot carry them); copy the key again from the Alvin UI; {_how_to_set(spec)}",
            )
        )
    spool_dir = (raw.get("spool_dir") or "").strip()
    if spool_dir and os.path.expanduser(spool_dir).startswith("~"):
        spec = SPEC_BY_KEY["spool_dir"]
        problems.append(
            Problem(
                ERROR_BAD_SPOOL_DIR,
                spec.env,
                f"{spec.env}={spool_dir[:80]!r} names a home directory that does not exist here; "
                f"use an absolute path; {_how_to_set(spec)}",
            )
        )
    ca_bundle = (raw.get("ca_bundle") or "").strip() or None
    if ca_bundle and not os.path.isfile(ca_bundle):
        spec = SPEC_BY_KEY["ca_bundle"]
        problems.append(
            Problem(ERROR_BAD_CA_BUNDLE, spec.env, f"{spec.env}={ca_bundle!r} is not a readable file")
        )

    numbers: Dict[str, Callable[[SettingSpec, str, List[Problem]], object]] = {
        "spool_max_mb": _parse_number,
        "http_timeout": _parse_number,
        "flush_timeout": _parse_number,
        "max_event_kb": _parse_number,
        "sql_start_wait_ms": _parse_number,
        "reconcile_interval": _parse_number,
        "verify_ssl": _parse_bool,
        "verbose_log": _parse_bool,
    }
    parsed = {key: parse(SPEC_BY_KEY[key], raw[key], problems) for key, parse in numbers.items()}
    marker = ephemeral_worker_marker(env)
    ephemeral = marker is not None
    if raw.get("ephemeral", "").strip():
        ephemeral = _parse_bool(SPEC_BY_KEY["ephemeral"], raw["ephemeral"], problems)
    else:
        sources["ephemeral"] = f"detected (env {marker})" if marker else "default"
    if problems:
        return LoadedSettings(None, problems, sources)

    spool_dir = (raw.get("spool_dir") or "").strip()
    if spool_dir:
        origin = f"set by {sources['spool_dir']}"
    else:
        spool_dir, origin = default_spool_dir(env), default_spool_reason(env)
        sources["spool_dir"] = "default"
    settings = Settings(
        url=url,
        api_key=raw["api_key"].strip(),
        platform_id=platform_id,
        spool_dir=os.path.expanduser(spool_dir),
        ca_bundle=ca_bundle,
        extractors=(raw.get("extractors") or "").strip() or None,
        ephemeral=ephemeral,
        **parsed,  # type: ignore[arg-type]
    )
    return LoadedSettings(settings, [], sources, spool_dir_origin=origin)
