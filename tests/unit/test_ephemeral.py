"""An ephemeral worker (a pod per try): its spool dies with it, so a try's end waits for delivery."""

from __future__ import annotations

import logging
import time

import pytest

from alvin_integration.circuit import CircuitBreaker
from alvin_integration.client import AlvinClient, RetryPolicy
from alvin_integration.config import load_settings
from alvin_integration.emitter import Emitter
from alvin_integration.logs import forget_said
from alvin_integration.model import START
from tests.support.events import settings_for, task_event
from tests.support.fault_server import FaultServer

REQUIRED = {"ALVIN_URL": "https://app.alvin.ai", "ALVIN_API_KEY": "k" * 20, "ALVIN_PLATFORM_ID": "p"}
NO_CFG = "/nonexistent/airflow.cfg"


@pytest.mark.parametrize(
    ("extra", "ephemeral", "source"),
    [
        ({}, False, "default"),
        ({"AIRFLOW_IS_K8S_EXECUTOR_POD": "True"}, True, "detected (env AIRFLOW_IS_K8S_EXECUTOR_POD)"),
        # the ECS, AWS Batch and other container executors of the providers
        ({"AIRFLOW_IS_EXECUTOR_CONTAINER": "true"}, True, "detected (env AIRFLOW_IS_EXECUTOR_CONTAINER)"),
        ({"AIRFLOW_IS_K8S_EXECUTOR_POD": ""}, False, "default"),
        ({"ALVIN_EPHEMERAL": "true"}, True, "env ALVIN_EPHEMERAL"),
        # a pod whose spool is on a volume that outlives it says so
        ({"AIRFLOW_IS_K8S_EXECUTOR_POD": "True", "ALVIN_EPHEMERAL": "false"}, False, "env ALVIN_EPHEMERAL"),
        # a spool under a container's /tmp is no sign of a pod per try (a Celery worker's may be there)
        ({"ALVIN_SPOOL_DIR": "/tmp/alvin/spool"}, False, "default"),
    ],
)
def test_an_ephemeral_worker_is_detected_or_named(extra: dict, ephemeral: bool, source: str) -> None:
    loaded = load_settings(dict(REQUIRED, **extra), config_path=NO_CFG)
    assert loaded.settings is not None
    assert loaded.settings.ephemeral is ephemeral
    assert loaded.sources["ephemeral"] == source


def test_a_bad_ephemeral_value_is_one_clear_problem() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_EPHEMERAL="maybe"), config_path=NO_CFG)
    assert loaded.settings is None
    assert [p.env for p in loaded.problems] == ["ALVIN_EPHEMERAL"]


def emitter_for(url: str, spool_dir: str, ephemeral: bool, window: float = 20.0, **extra: str) -> Emitter:
    """An emitter with production retry pacing and a fast-polling sender; in a pod per try or not.

    ``window``: how long one delivery retries before its failure opens the circuit."""
    settings = settings_for(url, spool_dir, ALVIN_EPHEMERAL=str(ephemeral).lower(), **extra)
    policy = RetryPolicy(base_delay=0.05, max_delay=0.2, max_retry_after=1.0, window=window)
    return Emitter(settings, client=AlvinClient(settings, policy), breaker=CircuitBreaker(), poll_seconds=0.1)


def wait_for(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


@pytest.mark.parametrize("api", ["slow", "503 twice"])
def test_a_pods_try_end_waits_for_an_api_that_a_shared_disk_would_not_wait_for(
    api: str,
    spool_dir: str,
    emitters: list,
    tmp_path,
) -> None:
    server = FaultServer(default="slow:1.0" if api == "slow" else "ok")
    faults = ("status:503", "status:503") if api == "503 twice" else ()
    try:
        if api == "slow":  # on a disk that later processes share, a slow API is not waited for
            shared = emitter_for(server.url, str(tmp_path / "shared"), ephemeral=False)
            emitters.append(shared)
            started = shared.emit(task_event(0, START))
            assert wait_for(lambda: started in server.keys(200))  # the machine learnt the API's latency
            shared.emit(task_event(0))
            assert shared.flush(10.0) is False
            assert shared.spool.own_pending()  # left for a later process, which a pod never has

        server.queue(*faults)
        pod = emitter_for(server.url, spool_dir, ephemeral=True)
        emitters.append(pod)
        ids = [pod.emit(task_event(1, START)), pod.emit(task_event(1))]
        assert pod.flush(10.0) is True
        assert set(ids) <= set(server.keys(200))
        assert not pod.spool.own_pending()
    finally:
        server.close()


def test_a_pod_that_gives_up_says_once_that_events_are_lost(
    spool_dir: str,
    emitters: list,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = FaultServer(default="slow:3")
    forget_said()
    try:
        pod = emitter_for(server.url, spool_dir, ephemeral=True)
        emitters.append(pod)
        pod.emit(task_event(1))
        with caplog.at_level(logging.WARNING, logger="alvin_integration"):
            started = time.monotonic()
            assert pod.flush(0.5) is False
            assert time.monotonic() - started < 3  # its timeout, not the API's latency
            pod.emit(task_event(2))
            assert pod.flush(0.2) is False
        lost = [r.getMessage() for r in caplog.records if "lost" in r.getMessage()]
        assert len(lost) == 1, lost  # once per process
        assert "ALVIN_FLUSH_TIMEOUT=0.5s" in lost[0] and "ephemeral worker" in lost[0]
    finally:
        server.close()
        forget_said()


def test_a_pod_retries_within_its_wait_after_the_circuit_opened(spool_dir: str, emitters: list) -> None:
    server = FaultServer(default="status:503")
    try:
        pod = emitter_for(server.url, spool_dir, ephemeral=True, window=1.0)  # the circuit opens in a second
        pod.sender.breaker = CircuitBreaker(base=120.0, cap=120.0)  # a pause that would outlast the pod
        emitters.append(pod)
        pod.emit(task_event(1, START))
        assert wait_for(pod.sender.breaker.is_open)
        server.default = "ok"
        event_id = pod.emit(task_event(1))
        assert pod.flush(10.0) is True
        assert event_id in server.keys(200)
    finally:
        server.close()


def test_a_retry_after_of_a_day_pauses_delivery_for_the_capped_minute_at_most(
    spool_dir: str,
    emitters: list,
) -> None:
    """The README's delivery rules: Retry-After is honoured up to 60 s, here and in the health file."""
    server = FaultServer(default="retry_after:86400")
    try:
        settings = settings_for(server.url, spool_dir)
        emitter = Emitter(settings, poll_seconds=0.1)  # the production retry policy and breaker
        emitters.append(emitter)
        emitter.emit(task_event(1))
        assert wait_for(emitter.sender.breaker.is_open)
        assert server.keys(429)
        assert emitter.sender.client.policy.max_retry_after == 60.0
        assert (
            0 < emitter.sender.health.down_for() <= 60.0
        )  # every process of the machine waits a minute at most
        assert emitter.sender.breaker.seconds_left() <= 60.0
    finally:
        server.close()
