"""What is reported: which DAGs and tasks (``ALVIN_DAGS``, ``ALVIN_SKIP_OPERATORS``, the ``alvin:off``
tag) and what a payload may carry (``ALVIN_SEND_SQL``, ``ALVIN_SEND_STACK_TRACES``).

``ALVIN_DAGS`` is a comma-separated list of shell-style globs over ``dag_id`` and
``dag_id.task_id``; a leading ``!`` excludes; the last pattern that matches wins; nothing matching
means left out, and the default ``*`` keeps everything (a list that starts with an exclusion starts
from ``*``: ``!scratch_*`` is everything but the scratch DAGs). A DAG (its definition, its runs) is decided
by its ``dag_id``; a task by its ``dag_id`` or its ``dag_id.task_id``, whichever a later pattern
names. A pattern that cannot match any id (a character ids never hold) is ignored and named in
``problems``: a typo never silences reporting. Nothing here knows Airflow: callers pass ids, tags
and class names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Iterable, List, Optional, Sequence, Tuple

from alvin_integration.model import AlvinRunFacet, ErrorMessageRunFacet, RunEvent

OFF_TAG = "alvin:off"
# what Airflow allows in a dag_id or task_id (KEY_REGEX), plus the globs' own characters
_PATTERN = re.compile(r"^[A-Za-z0-9_.\-*?\[\]!]+$")
Pattern = Tuple[bool, str]  # (keeps, glob)


def parse_patterns(text: str, setting: str) -> Tuple[List[Pattern], List[str]]:
    """The patterns of a comma-separated setting, and a message for each one ignored."""
    patterns: List[Pattern] = []
    problems: List[str] = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        keeps = not item.startswith("!")
        glob = item if keeps else item[1:].strip()
        if not glob or not _PATTERN.match(glob):
            problems.append(
                f"{setting}: pattern {item!r} ignored: patterns are shell globs over ids "
                "(letters, digits, _ . - and * ? [ ]), a leading ! excludes"
            )
            continue
        patterns.append((keeps, glob))
    return patterns, problems


def _last_match(patterns: Sequence[Pattern], names: Iterable[str]) -> Optional[bool]:
    names = list(names)
    for keeps, glob in reversed(patterns):
        if any(fnmatchcase(name, glob) for name in names):
            return keeps
    return None


@dataclass(frozen=True)
class Policy:
    """What this deployment reports, decided from its settings once per process."""

    dags: Tuple[Pattern, ...] = ((True, "*"),)
    skip_operators: Tuple[str, ...] = ()
    send_sql: bool = True
    send_stack_traces: bool = True
    problems: Tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_settings(
        cls,
        dags: Optional[str] = "*",
        skip_operators: Optional[str] = None,
        send_sql: bool = True,
        send_stack_traces: bool = True,
    ) -> Policy:
        """The policy of these setting values; patterns that cannot match are left out, in ``problems``."""
        dag_patterns, problems = parse_patterns(dags or "", "ALVIN_DAGS")
        if not dag_patterns or not dag_patterns[0][0]:  # none (or only bad ones), or exclusions first
            dag_patterns.insert(0, (True, "*"))
        operators, more = parse_patterns(skip_operators or "", "ALVIN_SKIP_OPERATORS")
        problems += more
        problems += [
            f"ALVIN_SKIP_OPERATORS: pattern '!{g}' ignored: a ! means nothing here"
            for k, g in operators
            if not k
        ]
        return cls(
            tuple(dag_patterns),
            tuple(glob for keeps, glob in operators if keeps),
            send_sql,
            send_stack_traces,
            tuple(problems),
        )

    @property
    def reports_everything(self) -> bool:
        """True for the defaults: every DAG and task, SQL and stack traces included."""
        return (
            self.dags == ((True, "*"),)
            and not self.skip_operators
            and self.send_sql
            and self.send_stack_traces
        )

    def keeps_dag(self, dag_id: str, tags: Iterable[str] = ()) -> bool:
        """Whether the DAG's definition and runs are reported."""
        if OFF_TAG in set(tags or ()):
            return False
        return bool(_last_match(self.dags, [dag_id]))

    def keeps_task(
        self, dag_id: str, task_id: str, operator_names: Iterable[str] = (), tags: Iterable[str] = ()
    ) -> bool:
        """Whether the task's tries are reported: its DAG's tag, the patterns, then its operator's
        class names (its own and its bases', e.g. ``BaseSensorOperator``)."""
        if OFF_TAG in set(tags or ()):
            return False
        if not _last_match(self.dags, [dag_id, f"{dag_id}.{task_id}"]):
            return False
        return not any(fnmatchcase(name, glob) for name in operator_names for glob in self.skip_operators)

    def withheld(self) -> List[str]:
        """What payloads leave out under this policy (named in the ``alvin`` facet)."""
        return [
            name
            for name, sent in (("sql", self.send_sql), ("stack_trace", self.send_stack_traces))
            if not sent
        ]

    def describe(self) -> str:
        """The policy as one line, for ``doctor``."""
        dags = ",".join(("" if keeps else "!") + glob for keeps, glob in self.dags)
        skipped = ",".join(self.skip_operators) or "none"
        withheld = ", ".join(self.withheld()) or "nothing"
        return f"DAGs {dags}; operators skipped: {skipped}; withheld from payloads: {withheld}"


def withhold(event: RunEvent, policy: Policy) -> RunEvent:
    """The event without what the policy keeps out of payloads (the SQL job facet, stack traces),
    the ``alvin`` facet naming what was withheld; applied before redaction and sizing."""
    withheld = policy.withheld()
    if not withheld:
        return event
    if not policy.send_sql:
        event.job.facets.pop("sql", None)
    error = event.run.facets.get("errorMessage")
    if not policy.send_stack_traces and isinstance(error, ErrorMessageRunFacet):
        event.run.facets["errorMessage"] = replace(error, stack_trace=None)
    alvin = event.run.facets.get("alvin")
    if isinstance(alvin, AlvinRunFacet):
        alvin.details["withheld"] = withheld
    return event
