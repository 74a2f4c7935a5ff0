"""Our health through Airflow's own metrics, to a real StatsD server on loopback, on this row.

The example DAG runs while the Alvin API answers 503 (an outage), then again with the API back,
as the row runs it (``dags test`` or a process per try). Airflow's ``Stats`` (StatsD, as the user
configured ``[metrics]``) must carry our counters, and they must add up: what was delivered is what
the API accepted from these processes; what was spooled is every event they wrote.
"""

from __future__ import annotations

import time
from typing import Iterator, Tuple

import pytest

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import ROW, fresh_home, row_env, run_airflow, run_example_dag
from tests.support.fault_server import FaultServer
from tests.support.skips import onboarding_rows_only
from tests.support.statsd_listener import StatsdListener

pytestmark = onboarding_rows_only

Ran = Tuple[StatsdListener, FaultServer, str]


def _spooled_ids(spool: str) -> set:
    from alvin_integration.spool import Spool

    return Spool(spool, 256 * 1024 * 1024).pending_ids()


@pytest.fixture(scope="module")
def ran(migrated_home: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    statsd, api = StatsdListener(), FaultServer(default="status:503")
    try:
        home = fresh_home(migrated_home, tmp_path_factory.mktemp("metrics") / "home")
        env = row_env(home, api.url, **statsd.env(version_compat.AIRFLOW_V_2_PLUS))
        run_example_dag(env, ROW["run"])  # the outage: every delivery answered 503
        api.default = "ok"  # the API is back: the next run's processes deliver the backlog too
        command = version_compat.run_dag_command(
            "alvin_example",
            "2026-11-02",  # a run of its own: every event id new
            task_processes=ROW["run"] != "dags test",
            version_text=version_compat.AIRFLOW_VERSION_TEXT,
        )
        run_airflow(env, *command)
        time.sleep(1.0)  # the last datagrams
        yield statsd, api, env["ALVIN_SPOOL_DIR"]
    finally:
        statsd.close()
        api.close()


def test_counters_add_up_to_what_the_api_received(ran: Ran) -> None:
    statsd, api, spool = ran
    accepted = len(api.keys(status=200))
    assert accepted > 0, "the API took nothing after its outage"
    delivered = statsd.total("alvin.events.delivered")
    # A process per try: a try's process may end while its sender's delivery of another process's
    # event is answered (a daemon thread, never waited for), before that delivery is counted.
    slack = 0 if ROW["run"] == "dags test" else 2
    assert accepted - slack <= delivered <= accepted, (delivered, accepted, statsd.lines[-20:])
    # every event the processes wrote was delivered once, or still waits (at least once: an event a
    # process writes twice, as two processes may see one transition, is delivered twice)
    waiting = len(_spooled_ids(spool))
    spooled = statsd.total("alvin.events.spooled")
    assert accepted + waiting - slack <= spooled <= accepted + waiting, (spooled, accepted, waiting)
    assert statsd.total("alvin.events.rejected") == 0 and statsd.total("alvin.events.dropped") == 0


def test_gauges_and_the_timer_say_the_api_was_down_then_up(ran: Ran) -> None:
    statsd = ran[0]
    up = [value for value, kind in statsd.metrics("alvin.api.up") if kind == "g"]
    assert 0.0 in up and up[-1] == 1.0, up
    assert any(kind == "g" for _, kind in statsd.metrics("alvin.spool.waiting"))
    assert [kind for _, kind in statsd.metrics("alvin.delivery.latency")] and all(
        kind == "ms" for _, kind in statsd.metrics("alvin.delivery.latency")
    )
