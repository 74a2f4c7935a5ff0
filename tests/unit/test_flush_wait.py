"""The rule of how long a finishing task waits for its events, case by case, without a clock or a thread."""

from __future__ import annotations

import pytest

from alvin_integration.flush_wait import (
    FLUSH_FLOOR_SECONDS,
    FLUSH_LATENCY_FACTOR,
    SLOW_API_SECONDS,
    WaitEnd,
    flush_wait,
    silence_budget,
)

STARTED = 1000.0  # when the flush started (monotonic seconds)
TIMEOUT = 10.0  # ALVIN_FLUSH_TIMEOUT


def test_a_healthy_api_is_waited_for_a_multiple_of_its_latency() -> None:
    wait = flush_wait(STARTED + 1.0, STARTED, TIMEOUT, latency=0.2)
    assert wait.end == WaitEnd.WAITING
    assert wait.seconds == pytest.approx(FLUSH_LATENCY_FACTOR * 0.2 - 1.0)


def test_with_no_latency_known_the_floor_is_the_budget() -> None:
    assert silence_budget(0.0) == FLUSH_FLOOR_SECONDS
    assert silence_budget(0.001) == FLUSH_FLOOR_SECONDS  # a fast API still gets the floor
    assert flush_wait(STARTED, STARTED, TIMEOUT).seconds == pytest.approx(FLUSH_FLOOR_SECONDS)
    assert flush_wait(STARTED + FLUSH_FLOOR_SECONDS, STARTED, TIMEOUT).end == WaitEnd.SILENT


def test_the_wait_goes_on_while_the_api_answers() -> None:
    # Silent for its budget since the flush started, but it answered 0.1 s ago: wait on.
    wait = flush_wait(STARTED + 5.0, STARTED, TIMEOUT, latency=0.1, last_answer=STARTED + 4.9)
    assert wait.end == WaitEnd.WAITING and wait.seconds == pytest.approx(0.9)


def test_an_api_silent_since_the_oldest_request_is_not_waited_for_again() -> None:
    # The START was sent while the task ran, 5 s ago, and is still unanswered: the budget is spent.
    wait = flush_wait(STARTED, STARTED, TIMEOUT, latency=0.1, oldest_unanswered=STARTED - 5.0)
    assert wait.seconds == 0 and wait.end == WaitEnd.SILENT
    assert wait.hung  # the machine's other processes should not wait for it either


def test_silence_with_nothing_unanswered_is_not_a_hung_api() -> None:
    wait = flush_wait(STARTED + 1.0, STARTED, TIMEOUT, latency=0.01, last_answer=STARTED - 3.0)
    assert wait.end == WaitEnd.SILENT and not wait.hung


def test_an_answer_after_the_oldest_request_was_sent_is_not_a_hung_api() -> None:
    wait = flush_wait(
        STARTED + 2.0,
        STARTED,
        TIMEOUT,
        latency=0.05,
        oldest_unanswered=STARTED - 1.0,
        last_answer=STARTED - 0.5,
    )
    assert wait.end == WaitEnd.SILENT and not wait.hung


def test_the_flush_timeout_is_the_ceiling() -> None:
    # The API answers all the time, and its budget (10 x 0.4 s) is past the 1 s timeout.
    during = flush_wait(STARTED + 0.6, STARTED, 1.0, latency=0.4, last_answer=STARTED + 0.6)
    assert during.end == WaitEnd.WAITING and during.seconds == pytest.approx(0.4)
    after = flush_wait(STARTED + 1.0, STARTED, 1.0, latency=0.4, last_answer=STARTED + 1.0)
    assert after.seconds == 0 and after.end == WaitEnd.CEILING and not after.hung


def test_a_request_unanswered_at_the_ceiling_is_a_hung_api() -> None:
    wait = flush_wait(STARTED + 1.0, STARTED, 1.0, latency=0.4, oldest_unanswered=STARTED + 0.5)
    assert wait.end == WaitEnd.CEILING and wait.hung


def test_an_api_known_down_is_not_waited_for() -> None:
    wait = flush_wait(STARTED, STARTED, TIMEOUT, known_down=True, oldest_unanswered=STARTED - 60)
    assert wait.seconds == 0 and wait.end == WaitEnd.DOWN
    assert not wait.hung  # known already: the machine was told by whoever saw it fail


def test_an_api_another_process_probes_is_not_waited_for() -> None:
    wait = flush_wait(STARTED, STARTED, TIMEOUT, probed_elsewhere=True)
    assert wait.seconds == 0 and wait.end == WaitEnd.PROBED


def test_a_slow_api_is_not_waited_for() -> None:
    assert flush_wait(STARTED, STARTED, TIMEOUT, latency=SLOW_API_SECONDS).end == WaitEnd.WAITING
    wait = flush_wait(STARTED, STARTED, TIMEOUT, latency=SLOW_API_SECONDS + 0.01)
    assert wait.seconds == 0 and wait.end == WaitEnd.SLOW


@pytest.mark.parametrize(
    "known",
    [
        {"known_down": True},
        {"probed_elsewhere": True},
        {"latency": 5.0},
        {"oldest_unanswered": STARTED - 60.0},
    ],
)
def test_an_ephemeral_worker_waits_to_the_ceiling_whatever_the_api_does(known: dict) -> None:
    during = flush_wait(STARTED + 9.0, STARTED, TIMEOUT, ephemeral=True, **known)
    assert during.end == WaitEnd.WAITING and during.seconds == pytest.approx(1.0)
    after = flush_wait(STARTED + TIMEOUT, STARTED, TIMEOUT, ephemeral=True, **known)
    assert after.seconds == 0 and after.end == WaitEnd.CEILING and not after.hung
