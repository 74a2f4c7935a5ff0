"""How long a finishing task waits for its events: one pure rule, asked again at every step of the wait.

On a shared disk a try's end waits only while the API answers: at most a multiple of the API's
recent latency (shared by the machine's processes, with a floor) after it last answered, counted
from the oldest request still unanswered, and never past ALVIN_FLUSH_TIMEOUT, the ceiling. An API
known to be down, being probed by another process, or slow is not waited for at all: the events stay
spooled and a sender delivers them later. An ephemeral worker's disk ends with it, so its try's end
waits up to the ceiling whatever the API does: that is the events' last chance.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional

# A finishing task waits at most this multiple of the API's recent delivery latency, and never
# less than the floor; with nothing known of the API's latency, the floor is the budget.
FLUSH_LATENCY_FACTOR = 10.0
FLUSH_FLOOR_SECONDS = 0.3
# An API this slow is not waited for at a task's end: waiting would add its latency to every task.
SLOW_API_SECONDS = 0.5
# A flush that ran out of time with its events unanswered tells the machine's other processes
# not to wait for the API for this long (a hung API never fails an attempt within a task's life).
UNANSWERED_DOWN_SECONDS = 30.0


class WaitEnd(str, Enum):
    """Why a flush waits no longer (``WAITING`` while it still may)."""

    WAITING = "waiting"
    DOWN = "down"  # an attempt failed, the circuit is open, or the machine marked the API down
    PROBED = "probed"  # after an outage another process is finding out whether the API is back
    SLOW = "slow"  # the API's recent latency is over SLOW_API_SECONDS
    SILENT = "silent"  # the API has answered nothing for its budget
    CEILING = "ceiling"  # ALVIN_FLUSH_TIMEOUT is over


@dataclass(frozen=True)
class FlushWait:
    """What the rule says: wait at most ``seconds`` more, or stop (``seconds`` is 0) and why."""

    seconds: float
    end: WaitEnd = WaitEnd.WAITING
    # It stops with a request unanswered since before the API last answered: the API hangs, and
    # the machine's other processes should be told (for UNANSWERED_DOWN_SECONDS).
    hung: bool = False


def silence_budget(latency: float) -> float:
    """How long a healthy API may stay silent: a multiple of its recent latency, with a floor."""
    return max(FLUSH_FLOOR_SECONDS, FLUSH_LATENCY_FACTOR * latency)


def flush_wait(
    now: float,
    started: float,
    timeout: float,
    *,
    ephemeral: bool = False,
    known_down: bool = False,
    probed_elsewhere: bool = False,
    latency: float = 0.0,
    oldest_unanswered: Optional[float] = None,
    last_answer: float = float("-inf"),
) -> FlushWait:
    """How much longer a flush that started at ``started`` may wait at ``now`` (monotonic seconds).

    ``timeout`` is the ceiling (ALVIN_FLUSH_TIMEOUT); ``latency`` the API's recent delivery latency
    (0 when unknown); ``oldest_unanswered`` when the oldest request still waiting for the API was
    sent (None if none is); ``last_answer`` when the API last answered anything.
    """
    ceiling = started + timeout
    if ephemeral:  # the last chance: whatever the API does
        left = ceiling - now
        return FlushWait(left) if left > 0 else FlushWait(0.0, WaitEnd.CEILING)
    if known_down:
        return FlushWait(0.0, WaitEnd.DOWN)
    if probed_elsewhere:
        return FlushWait(0.0, WaitEnd.PROBED)
    if latency > SLOW_API_SECONDS:
        return FlushWait(0.0, WaitEnd.SLOW)
    silent_since = max(last_answer, started if oldest_unanswered is None else oldest_unanswered)
    quiet_end = silent_since + silence_budget(latency)
    left = min(ceiling, quiet_end) - now
    if left > 0:
        return FlushWait(left)
    hung = oldest_unanswered is not None and last_answer < oldest_unanswered
    return FlushWait(0.0, WaitEnd.CEILING if ceiling <= quiet_end else WaitEnd.SILENT, hung)
