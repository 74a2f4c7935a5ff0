"""Producers: the hosts whose runs are reported (Airflow)."""
