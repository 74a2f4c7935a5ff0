"""The mock API's explorer in a real headless Chromium, after one run of the example DAG.

The server holds the example DAG's events (tests/support/explorer_data.py) and one hostile event
whose names are `<script>` tags. Each test writes a screenshot of its page under its tmp_path.
"""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import Page
from tests.support.explorer_data import HOSTILE


def _node(page: Page, kind: str, name: str) -> str:
    locator = page.page.locator(f"svg .node.{kind}").filter(has=page.page.locator("title", has_text=name))
    ids = [locator.nth(i).get_attribute("data-id") for i in range(locator.count())]
    matching = [i for i in ids if page.page.get_attribute(f'svg .node[data-id="{i}"]', "data-name") == name]
    assert len(matching) == 1, (kind, name, ids)
    return str(matching[0])


def _edge(page: Page, source: str, target: str) -> int:
    return page.page.locator(f'svg path.edge[data-source="{source}"][data-target="{target}"]').count()


def test_runs_page_shows_each_try_with_its_state_error_and_retry(page: Page, tmp_path: Path) -> None:
    browser_page = page.open("/")
    run = browser_page.locator('section.dag-run[data-dag-id="alvin_example"]')
    assert run.locator("h2 .state").inner_text() == "failed"
    assert run.locator(".meta").get_by_role("link", name="FAIL").count() == 1
    flaky = run.locator('tr.try[data-task="flaky"]')
    assert flaky.count() == 2
    first, second = flaky.nth(0).locator("td"), flaky.nth(1).locator("td")
    assert [first.nth(i).inner_text() for i in (1, 2, 5, 6)] == [
        "1",
        "up_for_retry",
        "RuntimeError: first try fails on purpose",
        "yes",
    ]
    assert [second.nth(i).inner_text() for i in (1, 2, 5, 6)] == ["2", "success", "", "no"]
    assert second.nth(4).inner_text() == "2.00 s"
    failed = run.locator('tr.try[data-task="fail"] td.error')
    assert failed.inner_text() == "ValueError: this task fails on purpose"
    browser_page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)

    browser_page.select_option('select[name="state"]', "skipped")
    browser_page.click("form.filters button")
    browser_page.wait_for_url("**/?dag_id=&state=skipped")
    assert browser_page.locator("section.dag-run").count() == 1
    hostile = browser_page.locator("section.dag-run").filter(has_text="hostile")
    assert hostile.count() == 0
    assert page.errors == [] and page.dialogs == []


def test_lineage_page_draws_the_example_dag_and_shows_a_failed_task_s_error(
    page: Page, tmp_path: Path
) -> None:
    browser_page = page.open("/lineage")
    browser_page.wait_for_selector("svg#graph[data-ready=true]")
    extract = _node(page, "job", "alvin_example.extract")
    raw, clean = _node(page, "dataset", "raw/orders.csv"), _node(page, "dataset", "clean/orders.parquet")
    assert _edge(page, raw, extract) == 1 and _edge(page, extract, clean) == 1
    transform = _node(page, "job", "alvin_example.transform")
    orders, totals = _node(page, "dataset", "raw_orders"), _node(page, "dataset", "order_totals")
    assert _edge(page, orders, transform) == 1 and _edge(page, transform, totals) == 1
    load = _node(page, "job", "alvin_example.load")
    staging = _node(page, "dataset", "warehouse.staging.orders")
    analytics = _node(page, "dataset", "warehouse.analytics.orders")
    assert _edge(page, staging, load) == 1 and _edge(page, load, analytics) == 1
    # left to right: an input's box starts left of its job's, an output's right of it
    x = {
        n: browser_page.locator(f'svg .node[data-id="{n}"]').bounding_box()["x"]
        for n in (raw, extract, clean)
    }
    assert x[raw] < x[extract] < x[clean]
    assert "s-failed" in str(
        browser_page.get_attribute(
            f'svg .node[data-id="{_node(page, "job", "alvin_example.fail")}"]', "class"
        )
    )

    browser_page.click(f'svg .node[data-id="{_node(page, "job", "alvin_example.fail")}"]')
    details = browser_page.locator("#details")
    details.locator("tr.run").first.wait_for()
    assert details.locator("h3").inner_text() == "alvin_example.fail"
    assert details.locator("tr.run-error td.error").inner_text() == "ValueError: this task fails on purpose"

    browser_page.click(f'svg .node[data-id="{totals}"]')
    details.locator("table.columns").wait_for()
    assert "alvin_example.transform" in details.inner_text()
    assert details.locator("table.columns tr").nth(1).inner_text().split("\t") == [
        "total",
        "← sqlite://alvin_example.db/raw_orders.amount",
    ]
    browser_page.screenshot(path=str(tmp_path / "lineage.png"), full_page=True)

    hostile = _node(page, "dataset", HOSTILE)
    assert browser_page.locator(f'svg .node[data-id="{hostile}"] text.name').text_content() == HOSTILE
    browser_page.click(f'svg .node[data-id="{hostile}"]')
    details.locator("h3", has_text=HOSTILE).wait_for()
    assert details.locator("h3").inner_text() == HOSTILE
    assert browser_page.locator("script").count() == 1  # the page's own, nothing from an event
    assert page.errors == [] and page.dialogs == []


def test_event_page_shows_the_event_its_checks_and_what_redaction_masked(
    page: Page, explorer: object, tmp_path: Path
) -> None:
    browser_page = page.open("/")
    hostile_run = browser_page.locator("section.dag-run").filter(has_text="hostile")
    assert hostile_run.locator("h2 .dag").inner_text() == f"hostile{HOSTILE}"
    assert hostile_run.locator("td.error").inner_text() == f"{HOSTILE} password=***"
    hostile_run.get_by_role("link", name="COMPLETE").click()
    browser_page.wait_for_url("**/events/*")
    assert "Passes the mock API's checks" in browser_page.inner_text("main")
    masked = browser_page.locator("main ul li code").all_inner_texts()
    assert masked == ["job.facets.sql.query", "run.facets.errorMessage.message"]
    event_text = browser_page.inner_text("pre.event")
    assert f'"name": "{HOSTILE}"' in event_text
    assert browser_page.locator("pre.event mark").count() == 2
    browser_page.screenshot(path=str(tmp_path / "event.png"), full_page=True)
    assert page.errors == [] and page.dialogs == []
