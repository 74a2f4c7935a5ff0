"""Lineage extraction: datasets from what a task declares, its SQL, its hooks and users' extractors.

Never I/O, never a vendor call, never a raise into the task; imports nothing from ``adapters``.
"""
