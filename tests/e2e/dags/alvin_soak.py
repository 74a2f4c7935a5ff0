"""The soak's DAG (tests/support/soak.py): ``$ALVIN_SOAK_TASKS`` independent one-second tasks."""

import os
import time
from datetime import datetime

try:
    from airflow.providers.standard.operators.python import PythonOperator
except ImportError:  # Airflow 1.10 and 2.x
    try:
        from airflow.operators.python import PythonOperator
    except ImportError:  # Airflow 1.10
        from airflow.operators.python_operator import PythonOperator

from airflow import DAG

ARGS = {"start_date": datetime(2026, 11, 1), "catchup": False, "max_active_runs": 64}
try:
    dag = DAG("alvin_soak", schedule=None, **ARGS)
except TypeError:  # before Airflow 2.4
    dag = DAG("alvin_soak", schedule_interval=None, **ARGS)


def one_second() -> None:
    time.sleep(1)


with dag:
    for number in range(int(os.environ.get("ALVIN_SOAK_TASKS", "25"))):
        PythonOperator(task_id=f"task_{number:02d}", python_callable=one_second, retries=0)
