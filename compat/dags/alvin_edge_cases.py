"""Operators that are hard to report, run on every supported Airflow: none may change a result.

An operator whose attributes cannot be read or serialised, a huge SQL string, non-ASCII names,
dynamic task mapping (Airflow 2.3+) and a sensor in reschedule mode. The DAG comes from the
packaged example's ``make_dag`` (Airflow 1.10 parses a file only if it names "DAG" and "airflow").
"""

from __future__ import annotations

from alvin_integration.examples.alvin_example import SqlCarrier, make_dag

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.providers.standard.sensors.python import PythonSensor
except ImportError:
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


with make_dag("alvin_edge_cases") as dag:
    hostile = HostileOperator(task_id="hostile", python_callable=done)
    huge = SqlCarrier(
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
