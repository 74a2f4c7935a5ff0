"""Settings: read from ``ALVIN_*`` environment variables or the ``[alvin]`` section of airflow.cfg.

Precedence, highest first: ``ALVIN_<NAME>``, ``AIRFLOW__ALVIN__<NAME>``, ``[alvin] <name>`` in
airflow.cfg (``$AIRFLOW_CONFIG`` or ``$AIRFLOW_HOME/airflow.cfg``), the default. A missing or invalid
required setting never raises: the result carries problems, each with a stable id and the fix.

Each setting is declared once, in ``SPECS``: its parser, default, range, help and whether it is a
secret. ``Settings``' defaults, the validation, the README's configuration table
(``settings_markdown``) and doctor's settings line (``shown_settings``) are read from there.

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
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
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

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Problem:
    """A setting that is missing or invalid, with a stable id and the fix in words."""

    code: str
    env: str
    message: str

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


@dataclass(frozen=True)
class SettingSpec:
    """One setting, declared once: how its text is read, its default, range and meaning.

    ``Settings``, the validation, the README's configuration table and doctor's settings line are
    all built from ``SPECS``: adding a setting is adding a row there (and its ``Settings`` field).
    """

    key: str  # the Settings attribute and the airflow.cfg key; ALVIN_<KEY> is its variable
    parse: Callable[[SettingSpec, str, List[Problem]], Any]  # text to value; a bad one adds a problem
    default: Optional[str]  # as text, read as if it were set; None: none, or decided from the host
    help: str  # the README's meaning; ``{range}`` stands for the range of a number
    required: bool = False
    limits: Optional[Tuple[float, float]] = None  # a number's smallest and largest value
    shown_default: str = ""  # the README's default where the host decides it
    secret: str = ""  # a secret's name in words: registered for redaction, never shown
    doctor: bool = False  # shown on doctor's settings line (a secret: only its length and source)
    in_settings: bool = True  # False: read before the others, no Settings attribute (ALVIN_DISABLED)

    @property
    def env(self) -> str:
        """Its environment variable, ``ALVIN_<KEY>``."""
        return "ALVIN_" + self.key.upper()

    @property
    def range_text(self) -> str:
        """The range of a number in words (``1 to 1048576``), or nothing."""
        if self.limits is None:
            return ""
        low, high = self.limits
        return f"{_plain(low)} to {_plain(high)}"

    @property
    def meaning(self) -> str:
        """The help with the range written in."""
        return self.help.replace("{range}", self.range_text)


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else str(number)


def _how_to_set(spec: SettingSpec) -> str:
    return (
        f"set the environment variable {spec.env} or '{spec.key}' in the [alvin] section of "
        f"airflow.cfg (on Cloud Composer: an environment variable, or the Airflow configuration "
        f"override section 'alvin', key '{spec.key}')"
    )


def _refuse(spec: SettingSpec, code: str, why: str, problems: List[Problem]) -> None:
    problems.append(Problem(code, spec.env, f"{why}; {_how_to_set(spec)}"))


def _parse_bool(spec: SettingSpec, raw: str, problems: List[Problem]) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    _refuse(spec, ERROR_BAD_BOOLEAN, f"{spec.env}={raw!r} is not true/false", problems)
    return spec.default in _TRUE


def _parse_number(spec: SettingSpec, raw: str, problems: List[Problem]) -> float:
    # Values that parse but cannot work (1e308 seconds, a 1e-12 MB spool) are refused at load
    # time, with the range, not later with a traceback.
    low, high = spec.limits or (float("-inf"), float("inf"))
    try:
        value = float(raw)
        if low <= value <= high:
            return value
    except ValueError:
        pass
    why = f"{spec.env}={raw.strip()[:40]!r} is not a number from {spec.range_text}"
    _refuse(spec, ERROR_BAD_NUMBER, why, problems)
    return float(spec.default or 1)


def _parse_text(spec: SettingSpec, raw: str, problems: List[Problem]) -> Optional[str]:
    return raw.strip() or None


def _parse_url(spec: SettingSpec, raw: str, problems: List[Problem]) -> str:
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
        why = (
            f"{spec.env}={shown!r} is not an http(s) URL with a host "
            f"(expected e.g. https://app.alvin.ai, a port up to 65535, no spaces)"
        )
        _refuse(spec, ERROR_BAD_URL, why, problems)
    return url


def _parse_platform_id(spec: SettingSpec, raw: str, problems: List[Problem]) -> str:
    platform_id = raw.strip()
    if any(ch.isspace() for ch in platform_id):
        why = f"{spec.env}={platform_id!r} contains white space; use the platform id shown in the Alvin UI"
        _refuse(spec, ERROR_BAD_PLATFORM_ID, why, problems)
    return platform_id


def _parse_api_key(spec: SettingSpec, raw: str, problems: List[Problem]) -> str:
    api_key = raw.strip()
    if not all(32 < ord(ch) < 127 for ch in api_key):
        why = (
            f"{spec.env} holds white space, control or non-ASCII characters (an HTTP header "
            f"cannot carry them); copy the key again from the Alvin UI"
        )
        _refuse(spec, ERROR_BAD_API_KEY, why, problems)
    return api_key


def _parse_spool_dir(spec: SettingSpec, raw: str, problems: List[Problem]) -> str:
    spool_dir = raw.strip()
    if os.path.expanduser(spool_dir).startswith("~"):
        why = (
            f"{spec.env}={spool_dir[:80]!r} names a home directory that does not exist here; "
            "use an absolute path"
        )
        _refuse(spec, ERROR_BAD_SPOOL_DIR, why, problems)
    return os.path.expanduser(spool_dir)


def _parse_ca_bundle(spec: SettingSpec, raw: str, problems: List[Problem]) -> Optional[str]:
    ca_bundle = raw.strip() or None
    if ca_bundle and not os.path.isfile(ca_bundle):
        problems.append(
            Problem(ERROR_BAD_CA_BUNDLE, spec.env, f"{spec.env}={ca_bundle!r} is not a readable file")
        )
    return ca_bundle


SPECS: Tuple[SettingSpec, ...] = (
    SettingSpec(
        "url",
        _parse_url,
        None,
        "Base URL of the Alvin API, e.g. `https://app.alvin.ai`",
        required=True,
        doctor=True,
    ),
    SettingSpec(
        "api_key",
        _parse_api_key,
        None,
        "API key, sent as `X-API-KEY`; never logged",
        required=True,
        secret="API key",
        doctor=True,
    ),
    SettingSpec(
        "platform_id",
        _parse_platform_id,
        None,
        "the Airflow platform id created in the Alvin UI; the OpenLineage job namespace",
        required=True,
        doctor=True,
    ),
    SettingSpec("disabled", _parse_bool, "false", "`true` switches the integration off", in_settings=False),
    SettingSpec(
        "spool_dir",
        _parse_spool_dir,
        None,
        "the local outbox directory",
        shown_default="`$AIRFLOW_HOME/alvin/spool` (on Composer, i.e. `COMPOSER_ENVIRONMENT` set: "
        "`$TMPDIR/alvin/spool`, as its `$AIRFLOW_HOME` is a GCS FUSE mount without file locks)",
    ),
    SettingSpec(
        "spool_max_mb",
        _parse_number,
        "256",
        "spool size cap ({range}); oldest events are dropped past it",
        limits=(1.0, 1_048_576.0),  # 1 MB to 1 TB
    ),
    SettingSpec(
        "http_timeout",
        _parse_number,
        "10",
        "seconds ({range}) to connect and to read one response; a whole request, answer included, "
        "never outlasts its delivery window",
        limits=(0.1, 600.0),
    ),
    SettingSpec(
        "flush_timeout",
        _parse_number,
        "5",
        "seconds ({range}) a finishing task process (or an exiting `dags test`) may wait for "
        "delivery; the rest stays spooled",
        limits=(0.0, 600.0),
    ),
    SettingSpec(
        "max_event_kb",
        _parse_number,
        "1024",
        "the largest event sent ({range} KB); a larger one is cut, its longest texts (SQL, stack "
        "traces) first, then dataset facets (column lineage) and dataset lists; the `alvin` facet's "
        "`truncated` lists what was cut. An event is never dropped for its size",
        limits=(16.0, 65_536.0),
    ),
    SettingSpec(
        "sql_start_wait_ms",
        _parse_number,
        "5",
        "milliseconds ({range}) a task's start may wait for its SQL to be parsed; SQL over 8 KB is "
        "never waited for. Past it the `START` goes without the tables and the end carries them",
        limits=(0.0, 60_000.0),
    ),
    SettingSpec(
        "reconcile_interval",
        _parse_number,
        "0",
        "seconds ({range}) between reconciles the scheduler runs in a background thread "
        "(`alvin-integration reconcile`), each over what started between three intervals and one "
        "interval ago, so that live events still on their way arrive first; 0 is off. The "
        "scheduler's ledger knows what it delivered, not what workers on other machines did: those "
        "events are resent, and the receiver dedupes them",
        limits=(0.0, 604_800.0),  # off, up to a week
    ),
    SettingSpec(
        "drain_start_delay",
        _parse_number,
        "60",
        "seconds ({range}) a scheduler or triggerer waits after its start before it drains what "
        "ended task processes left in the machine's spool (earlier if it reports something itself); "
        "it forks its workers meanwhile, and no fork must find our sender's thread in the middle of "
        "a lock",
        limits=(0.0, 3_600.0),
    ),
    SettingSpec(
        "extractors",
        _parse_text,
        None,
        "lineage extractors of your own operators: comma-separated `module:function` or "
        "`MyOperator=module:function` ([Lineage of your own operators](#lineage-of-your-own-operators))",
    ),
    SettingSpec(
        "dags",
        _parse_text,
        "*",
        "which DAGs and tasks are reported: comma-separated shell globs over `dag_id` and "
        "`dag_id.task_id`, a leading `!` excludes, the last match wins; a DAG tagged `alvin:off` is "
        "left out whatever the patterns ([Choosing what is reported](#choosing-what-is-reported))",
    ),
    SettingSpec(
        "skip_operators",
        _parse_text,
        None,
        "operator classes (globs; a base class counts, e.g. `BaseSensorOperator`) whose tasks are not "
        "reported",
    ),
    SettingSpec(
        "send_sql",
        _parse_bool,
        "true",
        "`false` keeps SQL text out of payloads (the `sql` job facet); the `alvin` facet's `withheld` "
        "says so",
    ),
    SettingSpec(
        "send_stack_traces",
        _parse_bool,
        "true",
        "`false` keeps stack traces out of payloads (the error message stays)",
    ),
    SettingSpec(
        "ephemeral",
        _parse_bool,
        None,
        "`true`: this worker's disk ends with its try, so a try's end waits up to "
        "`ALVIN_FLUSH_TIMEOUT` for delivery whatever the API's latency ([pods per "
        "try](#kubernetesexecutor-and-other-pods-per-try))",
        shown_default="detected: `true` in a KubernetesExecutor pod or a container executor's "
        "container (`AIRFLOW_IS_K8S_EXECUTOR_POD` or `AIRFLOW_IS_EXECUTOR_CONTAINER` set), else `false`",
    ),
    SettingSpec("verify_ssl", _parse_bool, "true", "`false` turns TLS certificate checks off (tests only)"),
    SettingSpec("ca_bundle", _parse_ca_bundle, None, "PEM file of a private CA"),
    SettingSpec("verbose_log", _parse_bool, "false", "log every delivery"),
)
SPEC_BY_KEY: Dict[str, SettingSpec] = {spec.key: spec for spec in SPECS}


def _default(key: str) -> Any:
    """The value of a setting left unset, read from its declaration."""
    spec = SPEC_BY_KEY[key]
    return spec.parse(spec, spec.default or "", [])


@dataclass(frozen=True)
class Settings:
    """Validated settings of one process: a field per setting of ``SPECS``, typed as it parses."""

    url: str
    api_key: str = field(repr=False)
    platform_id: str
    spool_dir: str
    spool_max_mb: float = _default("spool_max_mb")
    http_timeout: float = _default("http_timeout")
    flush_timeout: float = _default("flush_timeout")
    max_event_kb: float = _default("max_event_kb")
    sql_start_wait_ms: float = _default("sql_start_wait_ms")
    reconcile_interval: float = _default("reconcile_interval")
    drain_start_delay: float = _default("drain_start_delay")
    extractors: Optional[str] = _default("extractors")
    dags: Optional[str] = _default("dags")
    skip_operators: Optional[str] = _default("skip_operators")
    send_sql: bool = _default("send_sql")
    send_stack_traces: bool = _default("send_stack_traces")
    ephemeral: bool = _default("ephemeral")  # the spool ends with the process: a try's end waits for delivery
    verify_ssl: bool = _default("verify_ssl")
    ca_bundle: Optional[str] = _default("ca_bundle")
    verbose_log: bool = _default("verbose_log")

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


def settings_markdown() -> str:
    """The README's configuration table (between its ``settings`` markers)."""
    lines = ["| setting | default | meaning |", "|---|---|---|"]
    for spec in SPECS:
        if spec.required:
            default = "(required)"
        else:
            default = spec.shown_default or (f"`{spec.default}`" if spec.default is not None else "")
        cells = (f"`{spec.env}`", default, spec.meaning)
        lines.append("|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|")
    return "\n".join(lines) + "\n"


def shown_settings(settings: Settings, sources: Mapping[str, str]) -> str:
    """The settings doctor shows, in words; a secret only by its length and source."""
    shown = [f"{spec.key}={getattr(settings, spec.key)}" for spec in SPECS if spec.doctor and not spec.secret]
    shown += [
        f"{spec.secret} set ({len(getattr(settings, spec.key))} chars, from {sources.get(spec.key)})"
        for spec in SPECS
        if spec.doctor and spec.secret
    ]
    return " ".join(shown)


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

    for spec in SPECS:
        if spec.secret:
            register_secret(raw.get(spec.key))
    problems: List[Problem] = []
    if _parse_bool(SPEC_BY_KEY["disabled"], raw["disabled"], problems):
        return LoadedSettings(None, [], sources, disabled=True)

    given = {spec.key: raw[spec.key] for spec in SPECS if spec.in_settings and raw.get(spec.key, "").strip()}
    for spec in SPECS:
        if spec.required and spec.key not in given:
            _refuse(spec, ERROR_MISSING, f"{spec.env} is not set", problems)
    values = {key: SPEC_BY_KEY[key].parse(SPEC_BY_KEY[key], text, problems) for key, text in given.items()}
    if "ephemeral" not in values:
        marker = ephemeral_worker_marker(env)
        values["ephemeral"] = marker is not None
        sources["ephemeral"] = f"detected (env {marker})" if marker else "default"
    if problems:
        return LoadedSettings(None, problems, sources)

    if "spool_dir" in values:
        origin = f"set by {sources['spool_dir']}"
    else:
        values["spool_dir"], origin = default_spool_dir(env), default_spool_reason(env)
        sources["spool_dir"] = "default"
    return LoadedSettings(Settings(**values), [], sources, spool_dir_origin=origin)
