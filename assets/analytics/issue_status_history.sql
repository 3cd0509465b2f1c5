-- One row per issue per status interval, from creation to now.
-- The first interval starts at `created` in the issue's initial status: the `from` of its first
-- status change, or its current status when it never changed. Each status change starts the
-- next interval (in the change's `to` status) and ends the previous one; the current interval
-- has left_at null. Changes are ordered by time, then history id, then item index; a change
-- stamped before `created` (clock skew) counts as happening at `created`.
-- The state is the mapping of the issue's (current) project: jira.status_states.
-- Inputs: jira.issues, raw_status_changes, jira.status_states.
CREATE OR REPLACE TABLE analytics.issue_status_history AS
WITH changes AS (
    SELECT
        c.cloud_id,
        c.issue_id,
        greatest(c.created, i.created) AS changed_at,
        c.author_account_id,
        c.from_id,
        c.from_string,
        c.to_id,
        c.to_string,
        row_number() OVER (
            PARTITION BY c.cloud_id, c.issue_id
            ORDER BY c.created, TRY_CAST(c.history_id AS BIGINT), c.history_id, c.item_index
        ) AS change_number
    FROM raw_status_changes AS c
    JOIN jira.issues AS i ON i.cloud_id = c.cloud_id AND i.issue_id = c.issue_id
    WHERE c.created IS NOT NULL
),
intervals AS (
    SELECT
        i.cloud_id,
        i.issue_id,
        0 AS interval_number,
        i.created AS entered_at,
        CASE WHEN first.issue_id IS NULL THEN i.status_id ELSE first.from_id END AS status_id,
        CASE WHEN first.issue_id IS NULL THEN i.status_name ELSE first.from_string END AS status_name_then,
        CAST(NULL AS VARCHAR) AS changed_by_account_id
    FROM jira.issues AS i
    LEFT JOIN changes AS first
        ON first.cloud_id = i.cloud_id AND first.issue_id = i.issue_id AND first.change_number = 1
    UNION ALL
    SELECT cloud_id, issue_id, change_number, changed_at, to_id, to_string, author_account_id
    FROM changes
)
SELECT
    i.tenant_id,
    x.cloud_id,
    x.issue_id,
    i.issue_key,
    i.project_id,
    i.project_key,
    x.interval_number,
    x.status_id,
    coalesce(m.status_name, x.status_name_then) AS status_name,
    coalesce(m.state, 'open') AS state,
    x.entered_at,
    lead(x.entered_at) OVER issue_timeline AS left_at,
    (epoch(lead(x.entered_at) OVER issue_timeline) - epoch(x.entered_at)) / 3600.0 AS hours_in_status,
    x.changed_by_account_id
FROM intervals AS x
JOIN jira.issues AS i ON i.cloud_id = x.cloud_id AND i.issue_id = x.issue_id
LEFT JOIN jira.status_states AS m
    ON m.cloud_id = x.cloud_id AND m.project_id = i.project_id AND m.status_id = x.status_id
WINDOW issue_timeline AS (PARTITION BY x.cloud_id, x.issue_id ORDER BY x.interval_number)
