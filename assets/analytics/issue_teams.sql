-- One row per issue: the team its work counts for in every team metric, and why (team_rule).
--   1. assignee         the primary team (jira.primary_teams) of the person who did the work: the
--                       last person assigned at or before the moment the issue was last closed
--                       (for an issue not closed now: the last person assigned, i.e. the current
--                       assignee, or the one before if it was unassigned since), replayed from the
--                       assignee changes of the full changelog
--   2. project_default  else the project's default team from the sync file
--                       (tenants[].sites[].mappings.projects.<KEY>.team, a team name or ID)
--   3. none:<reason>    else no team: team_id null, team_name '(no team)', and the reason:
--                       no_team_sync (the site syncs no teams), project_default_not_found (the sync
--                       file names a team the site does not have), unassigned (nobody was ever
--                       assigned), assignee_in_no_team (the assignee is in none of the site's teams)
-- Team membership is today's (Jira keeps no membership history); the assignment is the one at
-- the time of the work.
-- Inputs: jira.issues, raw_issue_changelog, analytics.issue_status_history, jira.primary_teams,
-- jira.teams, jira.sync_sites, jira.sync_project_teams.
CREATE OR REPLACE TABLE analytics.issue_teams AS
WITH closings AS (
    SELECT
        cloud_id,
        issue_id,
        CASE WHEN arg_max(state, interval_number) = 'closed'
            THEN max(entered_at) FILTER (WHERE state = 'closed' AND previous_state IS DISTINCT FROM 'closed')
        END AS closed_at
    FROM analytics.issue_status_history
    GROUP BY cloud_id, issue_id
),
changes AS (
    SELECT
        c.cloud_id,
        c.issue_id,
        greatest(c.created, i.created) AS changed_at,
        row_number() OVER (
            PARTITION BY c.cloud_id, c.issue_id
            ORDER BY c.created, TRY_CAST(c.history_id AS BIGINT), c.history_id, c.item_index
        ) AS change_number,
        c.from_id,
        c.to_id
    FROM raw_issue_changelog AS c
    JOIN jira.issues AS i ON i.cloud_id = c.cloud_id AND i.issue_id = c.issue_id
    WHERE coalesce(c.field_id, lower(c.field)) = 'assignee' AND c.created IS NOT NULL
),
assignments AS (
    -- who the issue was assigned to from when: the initial assignee at creation (the first
    -- change's `from`, or the current assignee when it never changed), then every change's `to`
    SELECT i.cloud_id, i.issue_id, i.created AS assigned_at, 0 AS change_number,
        coalesce(first_change.from_id, i.assignee_account_id) AS assignee
    FROM jira.issues AS i
    LEFT JOIN changes AS first_change
        ON first_change.cloud_id = i.cloud_id AND first_change.issue_id = i.issue_id
        AND first_change.change_number = 1
    UNION ALL
    SELECT cloud_id, issue_id, changed_at, change_number, to_id FROM changes
),
work AS (
    SELECT a.cloud_id, a.issue_id, a.assignee AS work_assignee_account_id
    FROM (
        SELECT
            a.*,
            row_number() OVER (
                PARTITION BY a.cloud_id, a.issue_id ORDER BY a.assigned_at DESC, a.change_number DESC
            ) AS latest
        FROM assignments AS a
        LEFT JOIN closings AS c ON c.cloud_id = a.cloud_id AND c.issue_id = a.issue_id
        WHERE a.assignee IS NOT NULL AND (c.closed_at IS NULL OR a.assigned_at <= c.closed_at)
    ) AS a
    WHERE a.latest = 1
),
project_defaults AS (
    -- the sync file's default team of a project, by team ID, else by name (case-insensitive)
    SELECT cloud_id, project_key, team, team_id, team_name
    FROM (
        SELECT
            s.cloud_id, d.project_key, d.team, t.team_id, t.team_name,
            row_number() OVER (
                PARTITION BY s.cloud_id, d.project_key
                ORDER BY CASE WHEN t.team_id = d.team THEN 0 ELSE 1 END, t.team_id
            ) AS preference
        FROM jira.sync_project_teams AS d
        JOIN jira.sync_sites AS s ON s.tenant_id = d.tenant_id AND s.site_name = d.site_name
        LEFT JOIN jira.teams AS t
            ON t.cloud_id = s.cloud_id AND (t.team_id = d.team OR lower(t.team_name) = lower(d.team))
    ) AS candidates
    WHERE preference = 1
)
SELECT
    i.tenant_id,
    i.cloud_id,
    i.issue_id,
    i.issue_key,
    i.project_id,
    i.project_key,
    w.work_assignee_account_id,
    coalesce(p.team_id, d.team_id) AS team_id,
    coalesce(p.team_name, d.team_name, '(no team)') AS team_name,
    CASE
        WHEN p.team_id IS NOT NULL THEN 'assignee'
        WHEN d.team_id IS NOT NULL THEN 'project_default'
        WHEN s.team_method = 'none' THEN 'none:no_team_sync'
        WHEN d.team IS NOT NULL THEN 'none:project_default_not_found'
        WHEN w.work_assignee_account_id IS NULL THEN 'none:unassigned'
        ELSE 'none:assignee_in_no_team'
    END AS team_rule
FROM jira.issues AS i
LEFT JOIN work AS w ON w.cloud_id = i.cloud_id AND w.issue_id = i.issue_id
LEFT JOIN jira.primary_teams AS p
    ON p.cloud_id = i.cloud_id AND p.jira_account_id = w.work_assignee_account_id
LEFT JOIN project_defaults AS d ON d.cloud_id = i.cloud_id AND d.project_key = i.project_key
LEFT JOIN jira.sync_sites AS s ON s.cloud_id = i.cloud_id
