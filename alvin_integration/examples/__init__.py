"""Example DAGs shipped with the package (`alvin-integration demo` runs them). Not imported by it."""
