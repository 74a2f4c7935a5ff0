"""Example DAGs shipped with the package (`alvin-integration demo` runs them). Not imported by it."""

from typing import Dict

# The connections the example's SQL tasks name. `alvin_example_db` is a warehouse that is never
# opened: alvin-integration names the tables of the `load` task from its SQL and this connection's
# host, port and database. `alvin_example_sqlite` is a real SQLite file (relative to the worker's
# working directory) that the `transform` task runs its SQL on. The demo, the tests and the compose
# files define both as environment variables.
EXAMPLE_CONN_ID = "alvin_example_db"
EXAMPLE_SQLITE_CONN_ID = "alvin_example_sqlite"
EXAMPLE_CONNECTIONS: Dict[str, str] = {
    "AIRFLOW_CONN_ALVIN_EXAMPLE_DB": "postgres://example-db:5432/warehouse",
    "AIRFLOW_CONN_ALVIN_EXAMPLE_SQLITE": "sqlite://alvin_example.db",
}
