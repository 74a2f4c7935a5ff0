"""Inside a real Airflow: version facts, the entry-point plugin, the adapter, the backend classes."""

from __future__ import annotations

import importlib
import json
import logging
import sys

import pytest

from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.composer import is_composer
from alvin_integration.producers.airflow.version_compat import (
    AIRFLOW_V_2_3_PLUS,
    AIRFLOW_V_3_0_PLUS,
    parse_airflow_version,
)
from tests.support.airflow_home import airflow_env, run_airflow
from tests.support.fault_server import refused_url


@pytest.mark.parametrize(
    ("text", "base", "composer"),
    [("2.10.5+composer", (2, 10, 5), True), ("2.11.2", (2, 11, 2), False), ("3.1.0rc1", (3, 1, 0), False)],
)
def test_versions_parse_including_composer_builds(text: str, base: tuple, composer: bool) -> None:
    assert parse_airflow_version(text)[1] == base
    assert is_composer(text, environ={}) is composer


@pytest.mark.parametrize(
    ("text", "supported"),
    [
        ("1.10.14", False),
        ("1.10.15", True),
        ("2.3.4", True),
        ("3.3.2", True),
        ("4.0.0", False),
        ("4.1.0b1", False),
    ],
)
def test_only_versions_with_an_adapter_are_supported(text: str, supported: bool) -> None:
    assert version_compat.is_supported(text) is supported
    assert version_compat.AIRFLOW_SUPPORTED  # every matrix row is supported


def test_version_facts_match_the_installed_airflow() -> None:
    import airflow

    assert airflow.__version__ == version_compat.AIRFLOW_VERSION_TEXT
    assert version_compat.AIRFLOW_V_3_0_PLUS is airflow.__version__.startswith("3.")
    from tests.support.matrix import current_row

    row = current_row()
    assert airflow.__version__ == row["airflow"]


LIST_PLUGINS_1_10 = """
import json
from importlib import metadata
from airflow import plugins_manager


def source(plugin):
    # Airflow 1.10 marks what it loads with __usable_import_name: an entry point's module, or a
    # plugins-folder file's relative name; only an entry point that loads this very object counts
    usable = getattr(plugin, "__usable_import_name", None)
    for entry_point in metadata.entry_points().get("airflow.plugins", []):
        if entry_point.value.split(":")[0] == usable and entry_point.load() is plugin:
            return (f"EntryPoint(name={entry_point.name!r}, value={entry_point.value!r}, "
                    "group='airflow.plugins')")
    return f"{plugin.__module__} ({usable})"


def listeners(plugin):
    return getattr(plugin, "listeners", None) or []


print(json.dumps([
    {"name": p.name, "source": source(p), "listeners": [type(x).__name__ for x in listeners(p)]}
    for p in plugins_manager.plugins
]))
"""

# Whether the host functions of Airflow 1.10-2.2 are wrapped once the plugins are loaded.
WRAPPED_AFTER_PLUGINS = """
from airflow import plugins_manager
getattr(plugins_manager, "ensure_plugins_loaded", lambda: None)()
from airflow.models.taskinstance import TaskInstance
print("WRAPPED", bool(getattr(TaskInstance.handle_failure, "__alvin_wrapped__", False)))
"""


# What importing the plugin pulls in after `import airflow` (as `python -X importtime` sees it), and
# whether Airflow's own loading of the plugins then wraps what this version's listeners miss.
IMPORT_THEN_LOAD = """
import json, sys
import airflow
from alvin_integration.producers.airflow.adapters import WRAPPED_MODULES
before = set(sys.modules)
import alvin_integration.producers.airflow.plugin
pulled = sorted(set(sys.modules) - before)
from airflow import plugins_manager
getattr(plugins_manager, "ensure_plugins_loaded", lambda: None)()  # 1.10 loaded them at `import airflow`
from airflow.models import taskinstance
if hasattr(taskinstance, "_run_finished_callback"):  # Airflow 2.10+
    wrapped = taskinstance._run_finished_callback
else:
    wrapped = taskinstance.TaskInstance.handle_failure
print(json.dumps({
    "pulled": [name for name in pulled if name in WRAPPED_MODULES],
    "airflow_modules": len([name for name in pulled if name.startswith("airflow")]),
    "wrapped": bool(getattr(wrapped, "__alvin_wrapped__", False)),
}))
"""


def test_importing_the_plugin_pulls_in_no_model_and_loading_it_installs_the_wrappers(tmp_path) -> None:
    import subprocess

    env = airflow_env(str(tmp_path), refused_url())
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_THEN_LOAD], env=env, cwd=str(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["pulled"] == [], seen  # Airflow's task instance and DAG run models stay Airflow's cost
    # Airflow 3 has listeners for all of it; 2.10+ wraps the finished callback, earlier handle_failure
    assert seen["wrapped"] is (not AIRFLOW_V_3_0_PLUS), seen


def _plugins(env: dict) -> list:
    result = run_airflow(env, "plugins", "--output", "json")
    if "invalid choice" in result.stderr:  # Airflow 1.10 has no `airflow plugins`
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-c", LIST_PLUGINS_1_10],
            env=env,
            cwd=env["AIRFLOW_HOME"],
            capture_output=True,
            text=True,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    # Airflow 3.0 logs to stdout before the JSON (its providers manager): the JSON is the last line
    return json.loads(
        next(line for line in reversed(result.stdout.splitlines()) if line.startswith("[{") or line == "[]")
    )


def test_plugin_is_loaded_from_the_entry_point(tmp_path) -> None:
    plugins = _plugins(airflow_env(str(tmp_path), refused_url()))
    ours = [p for p in plugins if p["name"] == "alvin_integration"]
    assert len(ours) == 1
    assert "EntryPoint" in str(ours[0]["source"]) and "airflow.plugins" in str(ours[0]["source"])
    if AIRFLOW_V_2_3_PLUS:
        # the listener is a module (Airflow 2.3/2.4 accept nothing else), shown by its name
        adapter = "airflow3" if AIRFLOW_V_3_0_PLUS else "airflow2"
        assert ours[0]["listeners"] == [f"alvin_integration.producers.airflow.adapters.{adapter}"]


def test_disabled_loads_no_listener(tmp_path) -> None:
    plugins = _plugins(airflow_env(str(tmp_path), refused_url(), ALVIN_DISABLED="true"))
    ours = [p for p in plugins if p["name"] == "alvin_integration"]
    assert ours and not ours[0].get("listeners")
    if not AIRFLOW_V_2_3_PLUS:  # no listeners here at all: disabled means no wrapper either

        def wrapped(**extra: str) -> bool:
            import subprocess
            import sys

            env = airflow_env(str(tmp_path), refused_url(), **extra)
            result = subprocess.run(
                [sys.executable, "-c", WRAPPED_AFTER_PLUGINS], env=env, capture_output=True, text=True
            )
            assert "WRAPPED" in result.stdout, result.stderr[-2000:]
            return "WRAPPED True" in result.stdout

        assert wrapped() and not wrapped(ALVIN_DISABLED="true")


def test_the_adapter_is_chosen_once_for_this_version() -> None:
    import airflow.models.dagrun
    import airflow.models.taskinstance  # noqa: F401 - loaded, as in every process that runs tries

    from alvin_integration.producers.airflow.adapters import adapter_name, listeners

    first, second = listeners(), listeners()  # a second call installs nothing twice
    assert first == second and len(first) == (1 if AIRFLOW_V_2_3_PLUS else 0)
    if AIRFLOW_V_3_0_PLUS:
        assert adapter_name().startswith("airflow3")
    elif AIRFLOW_V_2_3_PLUS:
        assert adapter_name().startswith("airflow2 (listener")
    else:  # no listener API: the host functions are wrapped, once
        from airflow.models.taskinstance import TaskInstance

        assert "[lineage] backend" in adapter_name()
        assert getattr(TaskInstance.handle_failure, "__alvin_wrapped__", False)
        assert not hasattr(TaskInstance.handle_failure.__wrapped__, "__alvin_wrapped__")


DOCUMENTED_BACKENDS = (
    "alvin_integration.producers.airflow.lineage.backend.AlvinAirflowLineageBackend",
    "alvin_integration.producers.airflow.lineage.backend.AlvinAirflowLineageBackendComposer",
)


def test_backend_classes_keep_their_documented_paths(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="alvin_integration"):
        module = importlib.import_module("alvin_integration.producers.airflow.lineage.backend")
        module.AlvinAirflowLineageBackend.send_lineage(operator=None, inlets=[], outlets=[], context={})
        module.AlvinAirflowLineageBackendComposer().send_lineage(operator=None, context={})
    assert issubclass(module.AlvinAirflowLineageBackendComposer, module.AlvinAirflowLineageBackend)
    # what users' airflow.cfg names, and what `[lineage] backend` resolves it to: the path and both names
    for documented in DOCUMENTED_BACKENDS:
        path, _, name = documented.rpartition(".")
        cls = getattr(importlib.import_module(path), name)
        assert f"{cls.__module__}.{cls.__qualname__}" == documented
    assert DOCUMENTED_BACKENDS[0] == version_compat.LINEAGE_BACKEND_CLASS
    if AIRFLOW_V_3_0_PLUS:
        from alvin_integration.logs import forget_said

        forget_said()
        with caplog.at_level(logging.INFO, logger="alvin_integration"):
            importlib.reload(module)
        assert "Airflow 3 has no [lineage] backend" in caplog.text
    elif AIRFLOW_V_2_3_PLUS:
        notes = [r for r in caplog.records if "not needed" in r.getMessage()]
        assert len(notes) == 1  # said once, and nothing reported twice
    else:  # the backend reports here; a call without a task instance reports nothing, quietly
        assert "has no impact" not in caplog.text


def test_extractor_entry_points_come_from_what_airflow_read_when_it_read_them(tmp_path) -> None:
    from alvin_integration.producers.airflow import compat
    from alvin_integration.producers.airflow.extract.extractors import GROUP, scan_entry_points

    info = tmp_path / "my_lineage-1.0.dist-info"  # an installed distribution with an extractor
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-lineage\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nMyOperator = my_lineage:extract\n")
    sys.path.insert(0, str(tmp_path))
    try:
        caches = []
        for name in compat.ENTRY_POINT_CACHES:
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
            grouped = getattr(module, "_get_grouped_entry_points", None)
            if hasattr(grouped, "cache_info"):
                caches.append(grouped)
        for grouped in caches:
            grouped.cache_clear()  # as in a process where Airflow has not read them yet
        assert compat.entry_points_airflow_read(GROUP) is None
        if not caches:  # 1.10 and 2.0-2.6 keep none: we read them ourselves, every time
            assert not AIRFLOW_V_3_0_PLUS
            return
        caches[0]()  # what Airflow does when it loads plugins
        read = compat.entry_points_airflow_read(GROUP)
        assert read == scan_entry_points()
        assert ("MyOperator", "my_lineage:extract") in read
    finally:
        sys.path.remove(str(tmp_path))
        for grouped in caches:
            grouped.cache_clear()
