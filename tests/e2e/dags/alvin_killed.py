"""A task that runs until it is killed: tests/e2e/test_celery.py sends its process ``kill -9``.

It writes its process id to ``$ALVIN_KILLED_PID_FILE`` first, so the test kills the process that
executes the task, whatever the Airflow version names it.
"""

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


def run_until_killed() -> None:
    with open(os.environ["ALVIN_KILLED_PID_FILE"], "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(600)


try:
    dag = DAG("alvin_killed", start_date=datetime(2026, 11, 1), schedule=None, catchup=False)
except TypeError:  # before Airflow 2.4
    dag = DAG("alvin_killed", start_date=datetime(2026, 11, 1), schedule_interval=None, catchup=False)

with dag:
    PythonOperator(task_id="killed", python_callable=run_until_killed, retries=0)
