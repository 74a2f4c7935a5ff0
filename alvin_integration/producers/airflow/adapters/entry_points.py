"""The entry points Airflow already read in this process, so that we need not read them again."""

from __future__ import annotations

import sys
from typing import Final, List, Optional, Tuple

# Where Airflow keeps every distribution's entry points, read once per process (2.7+: utils; 3.x:
# the shared module loader). Private: read only if already loaded and filled, never imported.
ENTRY_POINT_CACHES: Final = ("airflow.utils.entry_points", "airflow._shared.module_loading")


def entry_points_airflow_read(group: str) -> Optional[List[Tuple[str, str]]]:
    """(name, value) of ``group``'s entry points if Airflow already read them all in this process.

    None when it has not (1.10, 2.0-2.6, or before it loaded plugins): reading them again costs
    a task process some 5 ms, so the caller then reads only the distributions that name the group.
    A distribution on ``sys.path`` twice is served once.
    """
    for module_name in ENTRY_POINT_CACHES:
        grouped = getattr(sys.modules.get(module_name), "_get_grouped_entry_points", None)
        info = getattr(grouped, "cache_info", None)
        if grouped is None or info is None or not info().currsize:
            continue
        try:
            points = (point for point, _distribution in grouped().get(group, ()))
            return list(dict.fromkeys((str(point.name), str(point.value)) for point in points))
        except Exception:  # a private structure that changed shape: the caller reads them itself
            return None
    return None
