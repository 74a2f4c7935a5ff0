"""The ``[lineage] backend`` classes users name in airflow.cfg (extraction is in ``extract``)."""
