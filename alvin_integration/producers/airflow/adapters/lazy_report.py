"""The report path, imported on the first event: loading the plugin costs a task process little.

The adapters call these; the model, the lineage extraction and the delivery stack behind them are
imported the first time a task try or DAG run is reported (tests/unit/test_lazy_report.py keeps the
event names equal to the model's).
"""

from __future__ import annotations

from typing import Any

START, COMPLETE, FAIL = "START", "COMPLETE", "FAIL"


def report_task(*args: Any, **kwargs: Any) -> None:
    """``report.report_task``, imported on first use."""
    from alvin_integration.producers.airflow.report import report_task as report

    report(*args, **kwargs)


def report_dag_run(*args: Any, **kwargs: Any) -> None:
    """``report.report_dag_run``, imported on first use."""
    from alvin_integration.producers.airflow.report import report_dag_run as report

    report(*args, **kwargs)


def report_dag_run_once(*args: Any, **kwargs: Any) -> bool:
    """``report.report_dag_run_once``, imported on first use."""
    from alvin_integration.producers.airflow.report import report_dag_run_once as report

    return report(*args, **kwargs)


def report_definition(dag: Any) -> None:
    """``dag_definitions.report_definition``, imported on first use."""
    from alvin_integration.producers.airflow.dag_definitions import report_definition as report

    report(dag)


def datasets(entities: Any) -> Any:
    """``extract.declared.datasets``, imported on first use."""
    from alvin_integration.producers.airflow.extract.declared import datasets as read

    return read(entities)
