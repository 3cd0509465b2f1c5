"""Identity: every Jira user linked to one account of its tenant, persistently.

Rules, in order: by Jira account ID if that account was linked before; else by email (lower case,
spaces ignored) to an account of the same kind; else a new account when an email is known. Bots
(app users) and customers are accounts of their own kind, never merged with people. Users left
without an account (hidden email) are listed in jira.unlinked_users with the reason.
"""

import csv
import io
import re
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import CORE_GROUP, KINDS, core_key, raw_key
from assets.core.raw_views import create_raw_views
from assets.core.sql import sql_file, table_metadata, transaction, transform_connection
from assets.resources import WAREHOUSE_POOL, SyncConfigResource, WarehouseResource
from assets.warehouse import Warehouse
from pipelines.config import SyncConfig

CSV_COLUMNS = ("account_id", "email", "name")


class AccountsCsvError(ValueError):
    """The accounts CSV named by the sync file cannot be imported."""


def read_accounts_csv(path: Path, where: str) -> list[tuple[str, str | None, str | None]]:
    """(account_id, normalised email, name) rows of an accounts CSV; errors name the file and key."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsCsvError(f"{where}: not a readable UTF-8 CSV ({exc}).") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [name.strip() for name in next(reader, [])]
    absent = [c for c in CSV_COLUMNS if c not in header]
    if absent:
        raise AccountsCsvError(
            f"{where}: missing column(s) {', '.join(absent)} (header is {', '.join(header)}); "
            "the first line must be account_id,email,name."
        )
    index = {name: header.index(name) for name in CSV_COLUMNS}
    rows, empty, seen, repeated = [], 0, set(), set()
    for record in reader:
        if not any(value.strip() for value in record):
            continue
        values = {name: (record[i] if i < len(record) else "") for name, i in index.items()}
        account_id = values["account_id"].strip()
        if not account_id:
            empty += 1
            continue
        if account_id in seen:
            repeated.add(account_id)
        seen.add(account_id)
        email = re.sub(r"\s", "", values["email"]).lower() or None
        rows.append((account_id, email, values["name"].strip() or None))
    if empty:
        raise AccountsCsvError(f"{where}: {empty} row(s) have an empty account_id; every row needs one.")
    if repeated:
        raise AccountsCsvError(
            f"{where}: account_id values repeat ({', '.join(sorted(repeated)[:5])}); each account once."
        )
    return rows


def load_accounts_csv(con: Warehouse, config: SyncConfig) -> int:
    """Fill the temp table accounts_csv_rows from every tenant's `accounts_csv`; returns the row count."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE accounts_csv_rows "
        "(tenant_id VARCHAR, account_id VARCHAR, email VARCHAR, display_name VARCHAR)"
    )
    count = 0
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
        rows = read_accounts_csv(path, where)
        if rows:
            con.executemany(
                "INSERT INTO accounts_csv_rows VALUES (?, ?, ?, ?)", [(tenant.id, *row) for row in rows]
            )
        count += len(rows)
    return count


def link_users(con: Warehouse, config: SyncConfig) -> None:
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
