"""The example DAG, shipped in the package for `alvin-integration demo`: one source.

Airflow 1.10 parses only files that contain both "DAG" and "airflow" (case-sensitive): this line does.
"""

from alvin_integration.examples.alvin_example import dag  # noqa: F401 - the DAG Airflow collects
