"""The reporting policy: which DAGs and tasks are reported, and what payloads withhold."""

from __future__ import annotations

import pytest

from alvin_integration.policy import OFF_TAG, Policy


def test_the_defaults_report_everything() -> None:
    policy = Policy.from_settings()
    assert policy.reports_everything and policy.problems == ()
    assert policy.keeps_dag("any") and policy.keeps_task("any", "task", ["PythonOperator"])


@pytest.mark.parametrize(
    "dags, dag_id, task_id, kept_dag, kept_task",
    [
        ("etl_*", "etl_orders", "load", True, True),
        ("etl_*", "scratch", "load", False, False),
        ("!scratch_*", "scratch_bob", "t", False, False),  # an exclusion first starts from *
        ("!scratch_*", "etl", "t", True, True),
        ("*,!*_test", "etl_test", "t", False, False),
        ("!*_test,*", "etl_test", "t", True, True),  # the last match wins
        ("*,!etl.debug_*", "etl", "debug_dump", True, False),  # a task left out, its DAG kept
        ("*,!etl.debug_*", "etl", "load", True, True),
        ("!*,etl.load", "etl", "load", False, True),  # one task of a DAG otherwise left out
        ("Etl", "etl", "t", False, False),  # case counts, as in dag ids
    ],
)
def test_patterns_over_dag_ids_and_task_ids(
    dags: str, dag_id: str, task_id: str, kept_dag: bool, kept_task: bool
) -> None:
    policy = Policy.from_settings(dags=dags)
    assert (policy.keeps_dag(dag_id), policy.keeps_task(dag_id, task_id)) == (kept_dag, kept_task)
    assert policy.problems == ()


def test_the_off_tag_leaves_a_dag_out_whatever_the_patterns() -> None:
    policy = Policy.from_settings(dags="*")
    assert not policy.keeps_dag("etl", tags=["team:data", OFF_TAG])
    assert not policy.keeps_task("etl", "load", tags=[OFF_TAG])
    assert policy.keeps_dag("etl", tags=["team:data"])


def test_operators_are_skipped_by_their_class_or_a_base_class() -> None:
    policy = Policy.from_settings(skip_operators="EmptyOperator, *Sensor*")
    assert not policy.keeps_task("etl", "start", ["EmptyOperator", "BaseOperator"])
    assert not policy.keeps_task("etl", "wait", ["S3KeySensor", "AwsBaseSensor", "BaseSensorOperator"])
    assert policy.keeps_task("etl", "load", ["SQLExecuteQueryOperator", "BaseOperator"])
    assert policy.keeps_dag("etl")  # skipping operators never leaves a DAG out


@pytest.mark.parametrize("bad", ["etl orders", "etl/*", "!", "etl;drop", "é*"])
def test_a_bad_pattern_disables_nothing_and_is_named(bad: str) -> None:
    policy = Policy.from_settings(dags=bad, skip_operators=bad)
    assert policy.keeps_dag("etl_orders") and policy.keeps_task("etl_orders", "t", ["PythonOperator"])
    assert len(policy.problems) == 2 and all(repr(bad.strip()) in p for p in policy.problems), policy.problems


def test_a_bad_pattern_beside_good_ones_leaves_the_good_ones_in_force() -> None:
    policy = Policy.from_settings(dags="etl_*, bad pattern")
    assert policy.keeps_dag("etl_a") and not policy.keeps_dag("scratch")
    assert len(policy.problems) == 1


def test_an_exclusion_means_nothing_among_skipped_operators() -> None:
    policy = Policy.from_settings(skip_operators="!PythonOperator")
    assert policy.keeps_task("d", "t", ["PythonOperator"])
    assert policy.problems and "means nothing" in policy.problems[0]


def test_what_payloads_withhold_is_named_and_described() -> None:
    policy = Policy.from_settings(dags="!scratch_*", skip_operators="EmptyOperator", send_sql=False)
    assert policy.withheld() == ["sql"] and not policy.reports_everything
    assert (
        policy.describe()
        == "DAGs *,!scratch_*; operators skipped: EmptyOperator; withheld from payloads: sql"
    )


def test_doctor_prints_the_policy_and_each_ignored_pattern() -> None:
    from alvin_integration.config import Settings
    from alvin_integration.doctor import Status, check_policy

    settings = Settings(
        url="https://alvin.example.com",
        api_key="k",
        platform_id="p",
        spool_dir="/nonexistent",
        dags="etl_*,etl orders",
        send_stack_traces=False,
    )
    checks = check_policy(settings)
    assert [c.status for c in checks] == [Status.OK, Status.WARN]
    assert "DAGs etl_*; operators skipped: none; withheld from payloads: stack_trace" in checks[0].lines()[0]
    assert "'etl orders' ignored" in checks[1].lines()[0]
