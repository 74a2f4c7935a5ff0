"""The example Airflow DAG: one source, shipped in the package for `alvin-integration demo`."""

from alvin_integration.examples.alvin_example import dag  # noqa: F401 - the DAG Airflow collects
