"""Example DAGs shipped with the package (`alvin-integration demo` runs them). Not imported by it."""

# The warehouse the example's SQL task names. Never opened: alvin-integration names the tables from
# the SQL and this connection's host, port and database. The demo and the tests define it.
EXAMPLE_CONN_ID = "alvin_example_db"
EXAMPLE_CONN_URI = "postgres://example-db:5432/warehouse"
