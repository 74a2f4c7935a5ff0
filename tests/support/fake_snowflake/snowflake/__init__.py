"""A stand-in for the ``snowflake`` namespace package (see ``connector``)."""
