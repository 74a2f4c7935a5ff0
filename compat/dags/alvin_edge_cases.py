"""Operators that are hard to report, run on every supported Airflow: none may change a result.

An operator whose attributes cannot be read or serialised, a huge SQL string, non-ASCII names,
dynamic task mapping (Airflow 2.3+) and a sensor in reschedule mode.
"""

from __future__ import annotations

from datetime import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.providers.standard.sensors.python import PythonSensor
    from airflow.sdk import DAG
except ImportError:
    from airflow import DAG

    try:
        from airflow.operators.python import PythonOperator
        from airflow.sensors.python import PythonSensor
    except ImportError:  # Airflow 1.10
        from airflow.contrib.sensors.python_sensor import PythonSensor
        from airflow.operators.python_operator import PythonOperator


def done(*args: object) -> str:
    return "done"


class Unreadable:
    """Every attribute read and every conversion to text fails."""

    def __getattr__(self, name: str) -> object:
        raise RuntimeError(f"cannot read {name}")

    def __str__(self) -> str:
        raise RuntimeError("cannot print")

    __repr__ = __str__


class HostileOperator(PythonOperator):
    """Properties the integration reads raise; attributes hold objects nothing can serialise."""

    @property
    def sql(self) -> str:
        raise RuntimeError("sql is not available")

    @property
    def conn_id(self) -> object:
        return Unreadable()

    @property
    def job_id(self) -> object:
        return Unreadable()


class HugeSql(PythonOperator):
    def __init__(self, sql: str, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.sql = sql


def make_dag() -> DAG:
    arguments = dict(dag_id="alvin_edge_cases", start_date=datetime(2026, 1, 1), catchup=False)
    try:
        return DAG(schedule="@daily", **arguments)  # Airflow 2.4+
    except TypeError:
        return DAG(schedule_interval="@daily", **arguments)  # Airflow 1.10 to 2.3


with make_dag() as dag:
    hostile = HostileOperator(task_id="hostile", python_callable=done)
    huge = HugeSql(
        task_id="huge_sql",
        python_callable=done,
        sql="SELECT 'naïve café ☕' AS greeting, " + ", ".join(f"col_{i}" for i in range(300_000)),
    )
    accents = PythonOperator(task_id="tâche_ünïcode", python_callable=done)
    sensor = PythonSensor(task_id="sensor", python_callable=lambda: True, mode="reschedule", poke_interval=1)
    hostile >> huge >> accents >> sensor
    if hasattr(PythonOperator, "partial"):  # dynamic task mapping, Airflow 2.3+
        mapped = PythonOperator.partial(task_id="mapped", python_callable=done).expand(
            op_args=[[1], [2], [3]]
        )
        sensor >> mapped
