"""The Airflow producer. Nothing here is imported until Airflow loads our plugin or backend."""
