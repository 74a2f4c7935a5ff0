"""The ``[lineage] backend`` classes users name in airflow.cfg."""
