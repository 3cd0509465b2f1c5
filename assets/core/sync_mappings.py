"""The sync file's mappings and site settings as warehouse tables (the one source the SQL reads).

Keywords, custom per-project type and status mappings, project default teams, and each site's
tenant and team-sync method come from the sync file; they are written to small `jira.sync_*` tables at the start of
every transform (and of every webhook upsert) so that the SQL never hard-codes one of them.
"""

from __future__ import annotations

from assets.warehouse import Warehouse
from pipelines.config import SyncConfig

SYNC_TABLES_DDL = """
CREATE OR REPLACE TABLE jira.sync_type_keywords (
    category VARCHAR, keyword VARCHAR, category_rank INTEGER, keyword_rank INTEGER);
CREATE OR REPLACE TABLE jira.sync_type_overrides (
    tenant_id VARCHAR, site_name VARCHAR, project_key VARCHAR, type_key VARCHAR, category VARCHAR);
CREATE OR REPLACE TABLE jira.sync_status_overrides (
    tenant_id VARCHAR, site_name VARCHAR, project_key VARCHAR, status_key VARCHAR, state VARCHAR);
CREATE OR REPLACE TABLE jira.sync_project_teams (
    tenant_id VARCHAR, site_name VARCHAR, project_key VARCHAR, team VARCHAR);
CREATE OR REPLACE TABLE jira.sync_site_settings (
    tenant_id VARCHAR, site_name VARCHAR, url VARCHAR, configured_cloud_id VARCHAR,
    team_method VARCHAR, organization_id VARCHAR, sprint_field VARCHAR);
"""

# Each configured site with the cloud ID it resolves to: the sync file's cloud_id, else the
# jira_raw.sites row of the same tenant and site name (or URL) written by the reference sync.
SITES_SQL = """
CREATE OR REPLACE TABLE jira.sync_sites AS
SELECT
    c.tenant_id,
    c.site_name,
    c.url,
    coalesce(c.configured_cloud_id, by_name.cloud_id, by_url.cloud_id) AS cloud_id,
    c.team_method,
    c.organization_id,
    c.sprint_field
FROM jira.sync_site_settings AS c
LEFT JOIN raw_sites AS by_name
    ON by_name.tenant_id = c.tenant_id AND by_name.name = c.site_name
LEFT JOIN raw_sites AS by_url
    ON by_url.tenant_id = c.tenant_id AND rtrim(by_url.url, '/') = c.url
QUALIFY row_number() OVER (PARTITION BY c.tenant_id, c.site_name ORDER BY by_name.cloud_id, by_url.cloud_id) = 1
"""


def load_sync_mappings(con: Warehouse, config: SyncConfig) -> None:
    """(Re)write the `jira.sync_*` tables from the sync file; needs the `raw_sites` view."""
    con.execute("CREATE SCHEMA IF NOT EXISTS jira")
    con.execute(SYNC_TABLES_DDL)
    keywords = [
        (category, keyword.strip().lower(), category_rank, keyword_rank)
        for category_rank, (category, words) in enumerate(config.mappings.type_keywords.items())
        for keyword_rank, keyword in enumerate(words)
    ]
    type_overrides, status_overrides, project_teams, sites = [], [], [], []
    for tenant, site in config.iter_sites():
        sites.append(
            (
                tenant.id,
                site.name,
                site.url,
                site.cloud_id,
                site.team_sync.method,
                site.team_sync.organization_id,
                site.issues.sprint_field,
            )
        )
        for project_key, mapping in site.mappings.projects.items():
            type_overrides += [
                (tenant.id, site.name, project_key.upper(), k, v) for k, v in mapping.types.items()
            ]
            status_overrides += [
                (tenant.id, site.name, project_key.upper(), k, v) for k, v in mapping.statuses.items()
            ]
            if mapping.team is not None:
                project_teams.append((tenant.id, site.name, project_key.upper(), mapping.team))
    for table, rows in (
        ("sync_type_keywords", keywords),
        ("sync_type_overrides", type_overrides),
        ("sync_status_overrides", status_overrides),
        ("sync_project_teams", project_teams),
        ("sync_site_settings", sites),
    ):
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            con.executemany(f"INSERT INTO jira.{table} VALUES ({marks})", rows)
    con.execute(SITES_SQL)
