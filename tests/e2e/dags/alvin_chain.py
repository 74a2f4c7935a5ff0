"""Three tries in a row, each a short Python task: tests/e2e/test_ephemeral_pods.py runs each in a pod."""

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

try:
    dag = DAG("alvin_chain", start_date=datetime(2026, 11, 1), schedule=None, catchup=False)
except TypeError:  # before Airflow 2.4
    dag = DAG("alvin_chain", start_date=datetime(2026, 11, 1), schedule_interval=None, catchup=False)

with dag:
    previous = None
    for step in ("one", "two", "three"):
        task = PythonOperator(task_id=step, python_callable=lambda: time.sleep(0.2), retries=0)
        if previous is not None:
            previous >> task
        previous = task
