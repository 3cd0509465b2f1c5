"""The flow report, built by its Dagster asset from a published snapshot of recent flow: what it
shows agrees with the tables, and in headless Chromium every chart renders with data, offline,
with no console error and no network request, for every slice the filters offer."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from assets.analytics.headline import cycle_time_headline, flow_headline
from assets.publish.flow_report import flow_report
from assets.publish.report import IMAGES_DIR, PAGE_NAME
from assets.publish.report.data import STATES
from assets.resources import SyncConfigResource, WarehouseResource
from pipelines.published_tables import NO_TEAM
from tests.assets.core.transform_world import TRANSFORMS, materialization, write_sync_file
from tests.assets.publish.flow_world import write_flow_world
from tests.chromium import headless_chromium

CHARTS = ["cumulative_flow", "throughput", "cycle_time", "aging_wip", "bug_share", "team_trend"]
# Where the browser test keeps its screenshots (default: the test's temp dir).
SCREENSHOTS = os.environ.get("JIRA_SYNC_SCREENSHOT_DIR")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    directory = tmp_path_factory.mktemp("flow_report")
    sync_file = write_sync_file(directory)
    document = yaml.safe_load(sync_file.read_text(encoding="utf-8"))
    document["report"] = {"path": str(directory / "report"), "weeks": 26, "months": 12}
    sync_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    warehouse = directory / "warehouse.duckdb"
    write_flow_world(warehouse)
    result = dg.materialize(
        [*TRANSFORMS, flow_report],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "sync_config": SyncConfigResource(path=str(sync_file)),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    return directory, result


def snapshot_of(directory: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(directory / "published" / "jira_analytics.duckdb"), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    return con


def page_payload(directory: Path) -> dict:
    html = (directory / "report" / PAGE_NAME).read_text(encoding="utf-8")
    start = html.index('<script type="application/json" id="report-data">') + len(
        '<script type="application/json" id="report-data">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_the_asset_links_the_page_and_reports_the_headline_figures(built):
    directory, result = built
    metadata = materialization(result, "publish", "flow_report").metadata
    page = directory / "report" / PAGE_NAME
    assert metadata["report"].value == page.resolve().as_uri()
    assert metadata["path"].value == str(page)
    assert metadata["charts"].value == len(CHARTS)
    for chart in CHARTS:
        for suffix in (".png", ".svg"):
            image = directory / "report" / IMAGES_DIR / f"{chart}{suffix}"
            assert image.stat().st_size > 5_000, image
    with snapshot_of(directory) as con:
        (as_of,) = con.execute("SELECT max(as_of) FROM analytics.issue_cycle_times").fetchall()[0]
        expected = {**flow_headline(con, as_of.date()), **cycle_time_headline(con, as_of)}
    assert expected["closed_last_12_weeks"] > 10 and expected["wip"] > 5
    assert {k: metadata[k].value for k in expected} == expected


def test_the_page_needs_nothing_from_the_network(built):
    directory, _ = built
    html = (directory / "report" / PAGE_NAME).read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert "default-src 'none'" in html and "connect-src 'none'" in html


def test_the_datasets_agree_with_the_tables(built):
    directory, _ = built
    payload = page_payload(directory)
    datasets = payload["datasets"]
    groups = payload["groups"]
    with snapshot_of(directory) as con:
        today = con.execute("SELECT CAST(max(as_of) AS DATE) FROM analytics.issue_cycle_times").fetchall()[0][
            0
        ]
        flow = dict(
            con.execute(
                "SELECT coalesce(team_name, '?'), sum(wip) FROM analytics.flow_daily WHERE day = ? GROUP BY ALL",
                [today],
            ).fetchall()
        )
        throughput = con.execute(
            "SELECT sum(throughput), sum(arrivals) FROM analytics.flow_daily WHERE day > ? AND day <= ?",
            [today - timedelta(weeks=26), today],
        ).fetchall()[0]
        teams = {
            name for (name,) in con.execute("SELECT DISTINCT team_name FROM analytics.issue_teams").fetchall()
        }
    # the in-progress band of the last day is the WIP of analytics.flow_daily, team by team
    wip = defaultdict(int)
    states = datasets["states"]
    for g, state, day, issues in zip(
        states["g"], states["state"], states["day"], states["issues"], strict=True
    ):
        if day == today.isoformat() and STATES[state] == "in_progress":
            wip[groups[g]["team"]] += issues
    assert dict(wip) == {team: n for team, n in flow.items() if n}
    weekly = datasets["weekly"]
    assert (sum(weekly["throughput"]), sum(weekly["arrivals"])) == throughput
    assert len(set(weekly["week_end"])) == 26 and max(weekly["week_end"]) == today.isoformat()
    assert {g["team"] for g in groups} == teams and NO_TEAM in teams
    assert all(n > 0 for n in states["issues"])  # the closed band counts closes since the window began


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    with headless_chromium(tmp_path / "chromium-profile", logs=True) as driver:
        yield driver


SHOWN = """
const done = arguments[arguments.length - 1];
window.flowReport.ready.then(() => {
  const charts = {};
  for (const id of Object.keys(window.flowReport.rowsShown)) {
    const holder = document.getElementById("chart-" + id);
    const marks = holder.querySelectorAll("svg g.role-mark > *").length;
    const box = holder.getBoundingClientRect();
    charts[id] = {rows: window.flowReport.rowsShown[id], marks: marks, width: box.width, height: box.height};
  }
  done({charts: charts, errors: window.flowReport.errors, tiles: window.flowReport.tiles,
        slice: document.getElementById("slice").textContent, rendered: window.flowReport.rendered});
}).catch((error) => done({failed: String(error)}));
"""


def shown(driver) -> dict:
    return driver.execute_async_script(SHOWN)


def screenshot(driver, folder: Path, name: str) -> Path:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1500, max(900, height))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def choose(driver, select_id: str, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, select_id)).select_by_visible_text(text)


@pytest.mark.browser
def test_every_chart_renders_with_data_offline_in_chromium(built, browser, tmp_path):
    directory, result = built
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1500, 1000)
    browser.get_log("performance")  # drop what the browser's own start page loaded
    browser.get((directory / "report" / PAGE_NAME).resolve().as_uri())

    everything = shown(browser)
    assert "failed" not in everything and everything["errors"] == []
    assert set(everything["charts"]) == set(CHARTS)
    for chart, seen in everything["charts"].items():
        assert seen["rows"] > 0 and seen["marks"] > 5 and seen["width"] > 300 and seen["height"] > 150, chart
    headline = materialization(result, "publish", "flow_report").metadata
    for figure in ("wip", "closed_last_12_weeks"):
        assert everything["tiles"][figure] == headline[figure].value
    for figure in ("weekly_throughput", "weekly_arrivals", "median_cycle_time_days", "p85_cycle_time_days"):
        assert everything["tiles"][figure] == pytest.approx(headline[figure].value, abs=0.01)
    assert "Data as of" in browser.find_element("id", "meta").text
    screenshot(browser, folder, "i16-report-all")

    choose(browser, "filter-project", "OPS (alpha)")
    ops = shown(browser)
    assert ops["slice"] == "Showing site alpha, project OPS" and ops["errors"] == []
    assert all(ops["charts"][c]["rows"] > 0 for c in CHARTS)
    assert ops["tiles"]["wip"] < everything["tiles"]["wip"]
    screenshot(browser, folder, "i16-report-project")

    choose(browser, "filter-site", "All sites")
    choose(browser, "filter-team", NO_TEAM)
    no_team = shown(browser)
    assert no_team["slice"] == f"Showing team {NO_TEAM}" and no_team["errors"] == []
    assert no_team["charts"]["cumulative_flow"]["rows"] > 0
    assert browser.current_url.endswith("#team=")  # the slice is in the address, so it can be shared
    screenshot(browser, folder, "i16-report-no-team")

    browser.get((directory / "report" / PAGE_NAME).resolve().as_uri() + "#site=alpha&project=WEB")
    browser.refresh()
    web = shown(browser)
    assert web["slice"] == "Showing site alpha, project WEB" and web["rendered"] >= len(CHARTS)

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    requested = set()
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested.add(message["params"]["request"]["url"].split(":", 1)[0])
    assert requested <= {"file", "data", "blob"}, requested
