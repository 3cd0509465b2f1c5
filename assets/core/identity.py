"""Identity: every Jira user linked to one account of its tenant, persistently.

Rules, in order: by Jira account ID if that account was linked before; else by email (lower case,
spaces ignored) to an account of the same kind; else a new account when an email is known. Bots
(app users) and customers are accounts of their own kind, never merged with people. Users left
without an account (hidden email) are listed in jira.unlinked_users with the reason.
"""

from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, raw_key
from assets.core.raw_views import create_raw_views
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from pipelines.config import SyncConfig

CSV_COLUMNS = ("account_id", "email", "name")


class AccountsCsvError(ValueError):
    """The accounts CSV named by the sync file cannot be imported."""


def load_accounts_csv(con: duckdb.DuckDBPyConnection, config: SyncConfig) -> int:
    """Fill the temp table accounts_csv_rows from every tenant's `accounts_csv`; returns the row count."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE accounts_csv_rows "
        "(tenant_id VARCHAR, account_id VARCHAR, email VARCHAR, display_name VARCHAR)"
    )
    for index, tenant in enumerate(config.tenants):
        if tenant.accounts_csv is None:
            continue
        where = f"{config.source_path}: tenants[{index}].accounts_csv ({tenant.accounts_csv})"
        path = Path(tenant.accounts_csv)
        if not path.is_file():
            raise AccountsCsvError(
                f"{where}: file not found (relative paths are read from {Path.cwd()}); "
                "write the path of a CSV with the header account_id,email,name, or accounts_csv: null."
            )
        try:
            header = [
                name
                for (name, *_rest) in con.execute(
                    "DESCRIBE SELECT * FROM read_csv(?, header = true, all_varchar = true)", [str(path)]
                ).fetchall()
            ]
        except duckdb.Error as exc:
            raise AccountsCsvError(f"{where}: not a readable CSV ({exc}).") from None
        absent = [c for c in CSV_COLUMNS if c not in header]
        if absent:
            raise AccountsCsvError(
                f"{where}: missing column(s) {', '.join(absent)} (header is {', '.join(header)}); "
                "the first line must be account_id,email,name."
            )
        con.execute(
            """
            INSERT INTO accounts_csv_rows
            SELECT ?, trim(account_id), nullif(lower(regexp_replace(email, '\\s', '', 'g')), ''), trim(name)
            FROM read_csv(?, header = true, all_varchar = true)
            """,
            [tenant.id, str(path)],
        )
        problems = con.execute(
            """
            SELECT
                count(*) FILTER (WHERE account_id IS NULL OR account_id = ''),
                (SELECT list(account_id ORDER BY account_id)[:5] FROM (
                    SELECT account_id FROM accounts_csv_rows WHERE tenant_id = ?
                    GROUP BY ALL HAVING count(*) > 1))
            FROM accounts_csv_rows WHERE tenant_id = ?
            """,
            [tenant.id, tenant.id],
        ).fetchall()[0]
        if problems[0]:
            raise AccountsCsvError(
                f"{where}: {problems[0]} row(s) have an empty account_id; every row needs one."
            )
        if problems[1]:
            raise AccountsCsvError(
                f"{where}: account_id values repeat ({', '.join(problems[1])}); each account once."
            )
    return int(con.execute("SELECT count(*) FROM accounts_csv_rows").fetchall()[0][0])


def link_users(con: duckdb.DuckDBPyConnection, config: SyncConfig) -> None:
    """Import the CSV accounts and link the users of raw_users (needs raw_users and raw_sites)."""
    load_accounts_csv(con, config)
    con.execute(sql_file("assets.core", "identity.sql"))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            core_key("accounts"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            deps=[raw_key("users"), raw_key("sites")],
            automation_condition=FOLLOWS_UPSTREAM,
            description=(
                "Accounts of each tenant that Jira users link to: kind person | bot | customer (never "
                "merged), source csv (imported from the tenant's accounts_csv) | jira (created from a Jira "
                "user with an email, or for a bot). Persistent: rows are only added or updated, never rebuilt."
            ),
        ),
        dg.AssetSpec(
            core_key("user_links"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            deps=[raw_key("users"), raw_key("sites")],
            automation_condition=FOLLOWS_UPSTREAM,
            description=(
                "The link of every Jira user (cloud_id, jira_account_id) to one account, with link_method "
                "account_id | email | csv_import | new_account and linked_at. Persistent: a link, once made, "
                "survives every later run (an email change does not break it)."
            ),
        ),
        dg.AssetSpec(
            core_key("unlinked_users"),
            group_name=CORE_GROUP,
            kinds=KINDS,
            deps=[raw_key("users"), raw_key("sites")],
            automation_condition=FOLLOWS_UPSTREAM,
            description=(
                "Jira users without an account and why: hidden_email (an Atlassian account whose email Jira "
                "does not show), no_email (customer or unknown account without email), unknown_site "
                "(cloud_id not in jira_raw.sites). Rebuilt every run."
            ),
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def identity(context: AssetExecutionContext, warehouse: WarehouseResource, sync_config: SyncConfigResource):
    config = sync_config.load()
    with transform_connection(warehouse) as con, transaction(con):
        missing = create_raw_views(con, ["users", "sites"])
        con.execute("CREATE SCHEMA IF NOT EXISTS jira")
        link_users(con, config)
        methods = dict(
            con.execute("SELECT link_method, count(*) FROM jira.user_links GROUP BY ALL").fetchall()
        )
        reasons = dict(
            con.execute("SELECT reason, count(*) FROM jira.unlinked_users GROUP BY ALL").fetchall()
        )
        results = {
            table: table_metadata(con, f"jira.{table}")
            for table in ("accounts", "user_links", "unlinked_users")
        }
    if missing:
        context.log.warning(f"jira_raw tables not loaded yet (read as empty): {', '.join(missing)}")
    results["user_links"]["links_by_method"] = {str(k): int(v) for k, v in methods.items()}
    results["unlinked_users"]["unlinked_by_reason"] = {str(k): int(v) for k, v in reasons.items()}
    for table, metadata in results.items():
        yield dg.MaterializeResult(asset_key=core_key(table), metadata=metadata)
