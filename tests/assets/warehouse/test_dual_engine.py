"""The transforms on DuckDB and on PostgreSQL give the same tables, row for row.

A simulated Jira (two sites, Teams API and groups, with the generator's hard cases) is loaded into
DuckDB by the real raw assets; the sync file adds a custom type mapping, a status override, a
project default team and an accounts CSV so every branch of the mapping and identity SQL runs. The
same `jira_raw` tables are copied into a scratch PostgreSQL database, every asset and check of the
`jira`, `analytics` and `publish` groups runs on each engine, and every table of `jira` and
`analytics` is compared (clock columns, which hold the run's `now()`, within the time between runs).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest
import yaml

from assets.core.raw_views import create_raw_views
from assets.core.sql import transaction, transform_connection
from assets.resources import shared_resources
from assets.webhooks.apply import apply_events, prune_superseded
from assets.webhooks.drain import drain_batch
from assets.webhooks.miss_rate import measure_miss_rate
from assets.webhooks.registrations import write_registrations
from jira_simulator.process import SimulatorProcess
from pipelines.config import load_sync_config
from pipelines.inbox import open_inbox
from pipelines.inbox.events import InboxEvent, WebhookEvent
from pipelines.webhooks.operations import SiteRegistration
from tests.assets.warehouse.engines_kit import (
    copy_schema_to_postgres,
    duckdb_tables,
    load_raw,
    postgres_tables,
    run_sql_areas,
    simulated_sync_file,
    table_differences,
)
from tests.postgres_server import requires_postgres, scratch_database

pytestmark = requires_postgres


def add_mappings(sync_file: Path, warehouse: Path, accounts_csv: Path) -> None:
    """Mappings of the first site taken from its data: one type, one status, a default team; and a
    CSV with two of its users' emails (one changed in case and spaces)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        body = yaml.safe_load(sync_file.read_text())
        site = body["tenants"][0]["sites"][0]
        cloud_id = site["cloud_id"]
        project, type_name, status = con.execute(
            "SELECT project_key, issue_type_name, status_name FROM jira_raw.issues WHERE cloud_id = ? "
            "ORDER BY key LIMIT 1",
            [cloud_id],
        ).fetchall()[0]
        (team,) = con.execute("SELECT display_name FROM jira_raw.teams ORDER BY team_id LIMIT 1").fetchall()[
            0
        ]
        emails = con.execute(
            "SELECT email_address FROM jira_raw.users WHERE email_address IS NOT NULL ORDER BY account_id LIMIT 2"
        ).fetchall()
    accounts_csv.write_text(
        "account_id,email,name\n"
        + "".join(
            f"A-{n},{' ' + e.upper() + ' ' if n == 0 else e},Imported {n}\n" for n, (e,) in enumerate(emails)
        )
    )
    site["mappings"] = {
        "projects": {
            project: {"types": {type_name: "incident"}, "statuses": {status: "closed"}, "team": team}
        }
    }
    body["tenants"][0]["accounts_csv"] = str(accounts_csv)
    sync_file.write_text(yaml.safe_dump(body, sort_keys=False))


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("engines")
    with (
        SimulatorProcess(issues=60, seed=11) as sim,
        pytest.MonkeyPatch.context() as env,
        scratch_database() as url,
    ):
        env.setenv("SIM_EMAIL", sim.admin_email)
        env.setenv("SIM_API_TOKEN", sim.api_token)
        env.setenv("DLT_DATA_DIR", str(workdir / "dlt"))
        env.setenv("WAREHOUSE_URL", url)
        warehouse = workdir / "duckdb" / "warehouse.duckdb"
        warehouse.parent.mkdir()
        (workdir / "postgres").mkdir()
        on_duckdb = simulated_sync_file(
            sim,
            warehouse.parent,
            {"path": str(warehouse), "publish_path": str(warehouse.parent / "jira_analytics.duckdb")},
        )
        raw_runs = load_raw(on_duckdb)
        assert all(run.success for run in raw_runs)
        add_mappings(on_duckdb, warehouse, workdir / "accounts.csv")
        on_postgres = simulated_sync_file(
            sim,
            workdir / "postgres",
            {"destination": "postgres", "credentials_env": "WAREHOUSE_URL"},
        )
        add_mappings(on_postgres, warehouse, workdir / "accounts.csv")
        copy_schema_to_postgres(warehouse, url)
        runs = {"duckdb": run_sql_areas(on_duckdb), "postgres": run_sql_areas(on_postgres)}
        site, cloud_id = sorted(sim.cloud_ids.items())[0]
        yield {
            "runs": runs,
            "warehouse": warehouse,
            "url": url,
            "sync_files": {"duckdb": on_duckdb, "postgres": on_postgres},
            "site": site,
            "cloud_id": cloud_id,
            "events": deliveries(sim, cloud_id, site),
        }


def failures(result) -> list[str]:
    return [str(e.step_failure_data.error.to_string()) for e in result.all_events if e.is_step_failure]


def test_every_transform_runs_on_both_engines(engines):
    for engine, result in engines["runs"].items():
        assert result.success, (engine, failures(result))


def test_the_tables_are_equal_row_for_row(engines):
    left = duckdb_tables(engines["warehouse"])
    right = postgres_tables(engines["url"])
    assert {name for name, (_, rows) in left.items() if rows} >= {
        "jira.issues",
        "jira.accounts",
        "jira.user_links",
        "jira.teams",
        "analytics.issue_status_history",
        "analytics.flow_daily",
    }
    assert table_differences(left, right) == []


def test_the_checks_agree(engines):
    def outcomes(result):
        return {
            e.check_name: (e.passed, str(e.severity), e.description)
            for e in result.get_asset_check_evaluations()
        }

    duck, postgres = (outcomes(engines["runs"][engine]) for engine in ("duckdb", "postgres"))
    assert duck.keys() == postgres.keys() and len(duck) >= 4
    for name in duck:
        if name == "analyst_snapshot_opens":  # says where it read: a file, or the published schemas
            assert duck[name][0] and postgres[name][0], (duck[name], postgres[name])
        else:
            assert duck[name] == postgres[name], name


def test_the_flow_report_shows_the_same_figures(engines):
    def figures(result) -> dict:
        (event,) = [
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key.to_user_string() == "publish/flow_report"
        ]
        metadata = event.materialization.metadata
        volatile = {"report", "path", "images", "data_as_of", "bytes", "seconds"}
        return {k: v.value for k, v in metadata.items() if k not in volatile}

    duck, postgres = (figures(engines["runs"][engine]) for engine in ("duckdb", "postgres"))
    assert duck == postgres and duck["charts"] > 0


def test_analysts_read_the_published_schemas(engines):
    working = postgres_tables(engines["url"])
    published = postgres_tables(engines["url"], published=True)
    info = published.pop("jira.snapshot_info")
    assert table_differences(working, published) == []
    assert {table: rows for _, _, table, rows in info[1]} == {
        name: len(rows) for name, (_, rows) in working.items()
    }


def deliveries(sim: SimulatorProcess, cloud_id: str, site: str) -> list[InboxEvent]:
    """Jira-shaped deliveries for real issues of a site: an edit with a status change (delivered
    twice), a stale edit, a creation, and a deletion."""
    ids = sorted(sim.admin("GET", "truth/issues")[cloud_id], key=int)[:4]

    def issue(issue_id: str) -> dict:
        response = httpx.get(
            f"{sim.site_url(site)}/rest/api/2/issue/{issue_id}",
            auth=(sim.admin_email, sim.api_token),
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    now = datetime.now(UTC).replace(microsecond=0)
    edited = issue(ids[0])
    edited["fields"]["summary"] = "edited on both engines"
    edited["fields"]["updated"] = now.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    status = edited["fields"]["status"]
    changelog = {
        "id": "990001",
        "items": [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": status["id"],
                "fromString": status["name"],
                "to": status["id"],
                "toString": status["name"],
            }
        ],
    }
    stale = issue(ids[1])
    stale["fields"]["summary"] = "stale edit, never applied"
    stale["fields"]["updated"] = "2001-01-01T00:00:00.000+0000"
    bodies = [
        ("edit", "jira:issue_updated", edited, changelog, now),
        ("edit", "jira:issue_updated", edited, changelog, now),  # Jira's retry of the same delivery
        ("stale", "jira:issue_updated", stale, None, now - timedelta(days=9000)),
        ("created", "jira:issue_created", issue(ids[2]), None, now),
        ("deleted", "jira:issue_deleted", issue(ids[3]), None, now),
    ]
    events = []
    for seq, (identifier, kind, body, history, moment) in enumerate(bodies, 1):
        payload = {"timestamp": int(moment.timestamp() * 1000), "webhookEvent": kind, "issue": body}
        if history:
            payload["changelog"] = history
        events.append(
            InboxEvent(
                seq=seq,
                tenant_id="acme",
                cloud_id=cloud_id,
                identifier=identifier,
                event=kind,
                issue_id=body["id"],
                issue_key=body["key"],
                jira_timestamp_ms=payload["timestamp"],
                received_at=now,
                retry_count=0,
                payload_json=orjson.dumps(payload).decode(),
                drained_at=None,
            )
        )
    return events


WEBHOOK_TABLES = ("jira_raw", "jira")


def test_webhook_deliveries_miss_rate_and_registrations_alike(engines):
    summaries, rates, current = {}, {}, {}
    registration = SiteRegistration(
        tenant_id="acme",
        site_name=engines["site"],
        cloud_id=engines["cloud_id"],
        url="http://127.0.0.1:1/webhooks/jira/acme",
        events=("jira:issue_created", "jira:issue_updated"),
        jql_filter="project = X",
        webhook_ids=(7, 8),
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        jira_now=datetime(2026, 12, 1, tzinfo=UTC),
        status="active",
        action="observe",
        detail="",
    )
    for engine, sync_file in engines["sync_files"].items():
        config = load_sync_config(sync_file)
        warehouse = shared_resources(config)["warehouse"]
        if engine == "postgres":
            warehouse = warehouse.model_copy(update={"postgres_url": engines["url"]})
        with transform_connection(warehouse) as con:
            with transaction(con):
                summary = apply_events(con, engines["events"], config)
            summaries[engine] = (summary.events, summary.new_events, summary.upserted, summary.stale_skipped)
            summaries[engine] += (summary.changelog_rows, summary.deletions, prune_superseded(con))
            create_raw_views(con, ["issues"])  # the current state the transforms read
            current[engine] = con.execute(
                "SELECT id, summary FROM raw_issues WHERE cloud_id = ? ORDER BY id", [engines["cloud_id"]]
            ).fetchall()
            write_registrations(con, [registration])
            result = measure_miss_rate(con, config)
            rates[engine] = (result.passed, dict(result.metadata))
    assert summaries["duckdb"] == summaries["postgres"]
    # the retry is stored once; the drain keeps every delivered state (edit, stale edit, creation)
    # (the stale edit is pruned: the loaded row is newer, and stays so)
    assert summaries["duckdb"] == (5, 4, 3, 0, 1, 1, 1)
    # in the current state the stale edit loses to the loaded row and the deleted issue is gone
    assert current["duckdb"] == current["postgres"]
    summaries_now = dict(current["duckdb"])
    events = engines["events"]
    assert (
        summaries_now[events[0].issue_id]
        == orjson.loads(events[0].payload_json)["issue"]["fields"]["summary"]
    )
    assert summaries_now[events[2].issue_id] != "stale edit, never applied"
    assert events[4].issue_id not in summaries_now
    assert rates["duckdb"] == rates["postgres"]
    left = duckdb_tables(engines["warehouse"], WEBHOOK_TABLES)
    right = postgres_tables(engines["url"], WEBHOOK_TABLES)
    assert table_differences(left, right) == []


def test_two_drains_on_one_postgres_inbox_share_the_work(engines):
    """Two drains at once (threads, each with its own warehouse session) on a PostgreSQL inbox:
    they claim different batches, every delivery is applied once, nothing stays pending."""
    config = load_sync_config(engines["sync_files"]["postgres"])
    first = engines["events"][0]
    events = [
        WebhookEvent(
            tenant_id="acme",
            cloud_id=engines["cloud_id"],
            identifier=f"parallel-{n}",
            event=first.event,
            issue_id=first.issue_id,
            issue_key=first.issue_key,
            jira_timestamp_ms=first.jira_timestamp_ms + n,
            received_at=first.received_at,
            retry_count=0,
            payload_json=first.payload_json,
        )
        for n in range(60)
    ]
    inbox = open_inbox(engines["url"])
    try:
        assert all(inbox.store(events))
        claimed: dict[str, list[str]] = {"a": [], "b": []}

        def drain(name: str) -> None:
            warehouse = shared_resources(config)["warehouse"].model_copy(
                update={"postgres_url": engines["url"]}
            )
            with transform_connection(warehouse) as con:
                while True:
                    with inbox.claim(7) as claim:
                        if not claim.events:
                            return
                        batch = drain_batch(con, claim.events, config)
                        claim.mark_drained(batch.applied)
                        claimed[name] += [e.identifier for e in claim.events]

        threads = [threading.Thread(target=drain, args=(name,)) for name in claimed]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert inbox.stats().pending == 0
    finally:
        inbox.close()
    assert claimed["a"] and claimed["b"] and not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == sorted(e.identifier for e in events)
    import psycopg2

    with psycopg2.connect(engines["url"]) as connection:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT count(*), count(DISTINCT webhook_identifier) FROM jira_raw.webhook_events "
            "WHERE webhook_identifier LIKE 'parallel-%%'"
        )
        assert cursor.fetchone() == (60, 60)
        cursor.execute(
            "SELECT count(*) FROM jira_raw.webhook_issues WHERE cloud_id = %s AND id = %s",
            [first.cloud_id, first.issue_id],
        )
        assert cursor.fetchone() == (1,)  # applied by both drains, never stored twice
    connection.close()
