-- Per site, project, team and UTC day:
--   wip         issues in an in_progress state at the end of the day (for today: now)
--   arrivals    issues created that day
--   throughput  entries into a closed state that day (an issue closed, reopened and closed again
--               on another day counts on both days)
-- Team: the team the issue's work counts for (analytics.issue_teams): one team per issue, so the
-- teams of a project add up to the project; issues without one have team_id null and team_name
-- '(no team)'.
-- Every day from the group's first event to today is present (zeros included).
-- Inputs: jira.issues, analytics.issue_teams, analytics.issue_status_history.
CREATE OR REPLACE TABLE analytics.flow_daily AS
WITH issue_groups AS (
    SELECT
        i.tenant_id, i.cloud_id, i.issue_id, i.project_id, i.project_key, i.created,
        t.team_id, t.team_name, coalesce(t.team_id, '') AS team_key
    FROM jira.issues AS i
    JOIN analytics.issue_teams AS t ON t.cloud_id = i.cloud_id AND t.issue_id = i.issue_id
),
in_progress AS (
    -- the days whose end falls inside the interval: from the day it starts to the day before
    -- the day it ends (an interval ending exactly at midnight covers the day before)
    SELECT
        cloud_id, issue_id, CAST(entered_at AS DATE) AS first_day, left_at IS NULL AS is_current,
        CASE WHEN left_at IS NULL THEN current_date ELSE CAST(left_at - INTERVAL 1 DAY AS DATE) END AS last_day
    FROM analytics.issue_status_history
    WHERE state = 'in_progress'
),
events AS (
    SELECT cloud_id, issue_id, CAST(created AS DATE) AS day, 1 AS arrivals, 0 AS throughput, 0 AS wip_delta
    FROM issue_groups
    UNION ALL
    SELECT cloud_id, issue_id, CAST(entered_at AS DATE), 0, 1, 0
    FROM analytics.issue_status_history
    WHERE state = 'closed' AND previous_state IS DISTINCT FROM 'closed'
    UNION ALL
    SELECT cloud_id, issue_id, first_day, 0, 0, 1 FROM in_progress WHERE first_day <= last_day
    UNION ALL
    SELECT cloud_id, issue_id, CAST(last_day + INTERVAL 1 DAY AS DATE), 0, 0, -1
    FROM in_progress
    WHERE first_day <= last_day AND NOT is_current
),
daily AS (
    SELECT
        g.cloud_id, g.project_id, g.team_key, e.day,
        sum(e.arrivals) AS arrivals, sum(e.throughput) AS throughput, sum(e.wip_delta) AS wip_delta
    FROM events AS e
    JOIN issue_groups AS g USING (cloud_id, issue_id)
    GROUP BY ALL
),
group_names AS (
    SELECT
        cloud_id, project_id, team_key, min(tenant_id) AS tenant_id, min(project_key) AS project_key,
        min(team_id) AS team_id, min(team_name) AS team_name
    FROM issue_groups
    GROUP BY ALL
),
groups AS (
    SELECT n.*, b.first_day, b.last_day, row_number() OVER () AS group_number
    FROM (
        SELECT cloud_id, project_id, team_key, min(day) AS first_day, greatest(max(day), current_date) AS last_day
        FROM daily
        GROUP BY ALL
    ) AS b
    JOIN group_names AS n USING (cloud_id, project_id, team_key)
),
days AS (
    SELECT CAST(unnest(generate_series(min(first_day), max(last_day), INTERVAL 1 DAY)) AS DATE) AS day
    FROM groups
),
calendar AS (
    -- a range join with one day table: cheaper than a series per group
    SELECT g.*, days.day FROM groups AS g JOIN days ON days.day BETWEEN g.first_day AND g.last_day
)
-- WIP at the end of each day: the running sum of the deltas over the group's calendar (every
-- event day lies in it; an integer group key keeps the window's sort small)
SELECT
    c.tenant_id,
    c.cloud_id,
    c.project_id,
    c.project_key,
    c.team_id,
    c.team_name,
    c.day,
    CAST(sum(coalesce(d.wip_delta, 0)) OVER (PARTITION BY c.group_number ORDER BY c.day) AS BIGINT) AS wip,
    CAST(coalesce(d.arrivals, 0) AS BIGINT) AS arrivals,
    CAST(coalesce(d.throughput, 0) AS BIGINT) AS throughput
FROM calendar AS c
LEFT JOIN daily AS d
    ON d.cloud_id = c.cloud_id AND d.project_id = c.project_id AND d.team_key = c.team_key AND d.day = c.day
