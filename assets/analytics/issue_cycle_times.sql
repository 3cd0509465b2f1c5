-- One row per issue: the clocks of its flow, from analytics.issue_status_history.
--   closed_at          the last entry into a closed state (from a non-closed one, or at creation),
--                      only while the issue is closed now; null for open issues
--   lead_time_hours    created -> closed_at
--   first_in_progress_at  the first time the issue entered an in_progress state
--   cycle_time_hours   first_in_progress_at -> closed_at; null when the issue never was in progress
--   in_progress_hours  the sum of all in_progress intervals (the current one counts up to as_of)
--   reopen_count       transitions from a closed state to a non-closed one
--   age_hours          created -> as_of, for issues not closed now
-- team_id / team_name / team_rule: the team the issue's work counts for (analytics.issue_teams;
-- team_name '(no team)' and team_rule none:<reason> when it has none).
-- as_of is the time of the transform run.
CREATE OR REPLACE TABLE analytics.issue_cycle_times AS
WITH per_issue AS (
    SELECT
        cloud_id,
        issue_id,
        arg_max(state, interval_number) AS current_state,
        max(entered_at) FILTER (WHERE state = 'closed' AND previous_state IS DISTINCT FROM 'closed')
            AS last_closed_entry,
        min(entered_at) FILTER (WHERE state = 'in_progress') AS first_in_progress_at,
        coalesce(
            sum(epoch(coalesce(left_at, now())) - epoch(entered_at)) FILTER (WHERE state = 'in_progress'), 0
        ) / 3600.0 AS in_progress_hours,
        count(*) FILTER (WHERE state <> 'closed' AND previous_state = 'closed') AS reopen_count,
        count(*) - 1 AS status_changes
    FROM analytics.issue_status_history
    GROUP BY ALL
),
clocks AS (
    SELECT
        *,
        CASE WHEN current_state = 'closed' THEN last_closed_entry END AS closed_at
    FROM per_issue
)
SELECT
    i.tenant_id,
    i.cloud_id,
    i.issue_id,
    i.issue_key,
    i.project_id,
    i.project_key,
    i.issue_type_name,
    i.type_category,
    i.assignee_account_id,
    team.team_id,
    team.team_name,
    team.team_rule,
    c.current_state AS state,
    i.created,
    c.first_in_progress_at,
    c.closed_at,
    (epoch(c.closed_at) - epoch(i.created)) / 3600.0 AS lead_time_hours,
    CASE WHEN c.first_in_progress_at < c.closed_at
        THEN (epoch(c.closed_at) - epoch(c.first_in_progress_at)) / 3600.0
    END AS cycle_time_hours,
    c.in_progress_hours,
    c.reopen_count,
    c.status_changes,
    CASE WHEN c.closed_at IS NULL THEN (epoch(now()) - epoch(i.created)) / 3600.0 END AS age_hours,
    now() AS as_of
FROM clocks AS c
JOIN jira.issues AS i ON i.cloud_id = c.cloud_id AND i.issue_id = c.issue_id
JOIN analytics.issue_teams AS team ON team.cloud_id = i.cloud_id AND team.issue_id = i.issue_id
