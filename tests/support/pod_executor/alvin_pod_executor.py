"""A KubernetesExecutor stand-in: each task try runs in a "pod" of its own, whose disk ends with it.

Every try is its own process, run as the KubernetesExecutor's pod runs it (Airflow 2: ``airflow
tasks run --local``; Airflow 3: ``python -m airflow.sdk.execution_time.execute_workload``), with
``AIRFLOW_IS_K8S_EXECUTOR_POD=True`` as the pod template sets it and a spool directory of its own
that is deleted when the process ends. The file named by ``$ALVIN_TEST_POD_ENV`` (JSON), read at
each try, adds environment variables to the next pods (a test changes them between DAG runs).

One try at a time, in the scheduler's loop (``is_single_threaded``): it runs on SQLite. The scheduler
imports it from ``$AIRFLOW_HOME/config``, which Airflow puts on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, List, Tuple

from airflow.executors.base_executor import BaseExecutor


def run_pod(command: List[str]) -> bool:
    """Run one try as a pod would, on a disk that is gone afterwards; True if it exited 0."""
    spool = tempfile.mkdtemp(prefix="alvin-pod-spool-")
    env = dict(os.environ, ALVIN_SPOOL_DIR=spool, AIRFLOW_IS_K8S_EXECUTOR_POD="True")
    overrides = os.environ.get("ALVIN_TEST_POD_ENV")
    if overrides and os.path.exists(overrides):
        with open(overrides) as handle:
            env.update(json.load(handle))
    try:
        return subprocess.run(command, env=env, close_fds=True).returncode == 0
    finally:
        shutil.rmtree(spool, ignore_errors=True)  # the pod's disk goes with it


class PodPerTryExecutor(BaseExecutor):
    """Runs each queued try as a pod of its own, one after the other."""

    is_local = True
    is_single_threaded = True
    serve_logs = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pods: List[Tuple[Any, List[str]]] = []

    def execute_async(self, key: Any, command: Any, queue: Any = None, executor_config: Any = None) -> None:
        """Airflow 2: the try's ``airflow tasks run --local`` command."""
        self.pods.append((key, list(command)))

    def _process_workloads(self, workloads: Any) -> None:
        """Airflow 3: the try's workload, as the KubernetesExecutor hands it to its pod."""
        for workload in workloads:
            key = workload.ti.key
            self.queued_tasks.pop(key, None)
            module = "airflow.sdk.execution_time.execute_workload"
            command = [sys.executable, "-m", module, "--json-string", workload.model_dump_json()]
            self.pods.append((key, command))

    def sync(self) -> None:
        """Run the pods queued since the last heartbeat."""
        pods, self.pods = self.pods, []
        for key, command in pods:
            if run_pod(command):
                self.success(key)
            else:
                self.fail(key)

    def end(self) -> None:
        """Run what is left."""
        self.sync()

    def terminate(self) -> None:
        """Nothing runs in the background."""
