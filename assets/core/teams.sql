-- Teams per site, by the site's team_sync.method: Atlassian Teams of the site's organization
-- (teams_api), or one team per Jira group of the site (groups_api). Members are resolved to
-- accounts through jira.user_links (account_id null while the member is unlinked).
-- Inputs: jira.sync_sites, raw_teams, raw_team_members, raw_groups, raw_group_members, jira.user_links.

CREATE OR REPLACE TABLE jira.teams AS
SELECT
    s.tenant_id,
    s.cloud_id,
    t.team_id,
    t.display_name AS team_name,
    t.description,
    t.state,
    t.team_type,
    t.organization_id,
    'teams_api' AS source
FROM jira.sync_sites AS s
JOIN raw_teams AS t ON t.organization_id = s.organization_id
WHERE s.team_method = 'teams_api' AND s.cloud_id IS NOT NULL
UNION ALL
SELECT
    s.tenant_id,
    s.cloud_id,
    g.group_id,
    g.name,
    CAST(NULL AS VARCHAR),
    'ACTIVE',
    'GROUP',
    s.organization_id,
    'groups_api'
FROM jira.sync_sites AS s
JOIN raw_groups AS g ON g.cloud_id = s.cloud_id
WHERE s.team_method = 'groups_api';

CREATE OR REPLACE TABLE jira.team_members AS
WITH members AS (
    SELECT DISTINCT t.tenant_id, t.cloud_id, t.team_id, t.source, m.account_id AS jira_account_id
    FROM jira.teams AS t
    JOIN raw_team_members AS m ON m.organization_id = t.organization_id AND m.team_id = t.team_id
    WHERE t.source = 'teams_api'
    UNION ALL
    SELECT DISTINCT t.tenant_id, t.cloud_id, t.team_id, t.source, m.account_id
    FROM jira.teams AS t
    JOIN raw_group_members AS m ON m.cloud_id = t.cloud_id AND m.group_id = t.team_id
    WHERE t.source = 'groups_api'
),
tenant_links AS (
    -- the first link; links made in one run share linked_at, so the account id breaks the tie
    SELECT tenant_id, jira_account_id, list(account_id ORDER BY linked_at, account_id)[1] AS account_id
    FROM jira.user_links
    GROUP BY ALL
)
SELECT
    m.tenant_id,
    m.cloud_id,
    m.team_id,
    m.source,
    m.jira_account_id,
    coalesce(site_link.account_id, tenant_links.account_id) AS account_id
FROM members AS m
LEFT JOIN jira.user_links AS site_link
    ON site_link.cloud_id = m.cloud_id AND site_link.jira_account_id = m.jira_account_id
LEFT JOIN tenant_links ON tenant_links.tenant_id = m.tenant_id AND tenant_links.jira_account_id = m.jira_account_id;

-- The one team a user's work is attributed to (flow metrics, cycle times by team): the smallest
-- of their teams on the site (fewest members), then by name, so the teams of a project add up to
-- the project. team_count says how many teams the user is in.
CREATE OR REPLACE TABLE jira.primary_teams AS
WITH team_sizes AS (
    SELECT cloud_id, team_id, count(*) AS members FROM jira.team_members GROUP BY ALL
)
SELECT
    m.tenant_id,
    m.cloud_id,
    m.jira_account_id,
    m.account_id,
    m.team_id,
    t.team_name,
    count(*) OVER (PARTITION BY m.cloud_id, m.jira_account_id) AS team_count
FROM jira.team_members AS m
JOIN jira.teams AS t USING (cloud_id, team_id)
JOIN team_sizes AS s USING (cloud_id, team_id)
QUALIFY row_number() OVER (
    PARTITION BY m.cloud_id, m.jira_account_id ORDER BY s.members, t.team_name, m.team_id
) = 1;
