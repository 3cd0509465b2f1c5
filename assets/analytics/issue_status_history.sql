-- One row per issue per status interval, from creation to now.
-- The first interval starts at `created` in the issue's initial status: the `from` of its first
-- status change, or its current status when it never changed. Each status change starts the
-- next interval (in the change's `to` status) and ends the previous one; the current interval
-- has left_at null; previous_state is the state of the interval before (null for the first).
-- Changes are ordered by time, then history id (numerically), then item index;
-- a change stamped before `created` (clock skew) counts as happening at `created`.
-- Status name and state come from jira.status_states for the issue's (current) project, which
-- lists every status seen in a history: the current name, so a renamed status stays one status.
-- One sort per issue: the creation row and the change rows form one timeline, and every
-- interval takes its end from the next row (the creation row takes its status from it too).
-- Inputs: jira.issues, raw_status_changes, jira.status_states.
CREATE OR REPLACE TABLE analytics.issue_status_history AS
WITH timeline AS (
    SELECT
        i.cloud_id,
        i.issue_id,
        i.status_id AS current_status_id,
        i.created AS happened_at,
        0 AS kind,  -- 0 creation, 1 status change
        CAST(NULL AS BIGINT) AS history_number,
        CAST(NULL AS VARCHAR) AS history_id,
        CAST(0 AS BIGINT) AS item_index,
        CAST(NULL AS VARCHAR) AS from_id,
        CAST(NULL AS VARCHAR) AS to_id,
        CAST(NULL AS VARCHAR) AS author_account_id
    FROM jira.issues AS i
    UNION ALL
    SELECT
        i.cloud_id,
        i.issue_id,
        NULL,
        greatest(c.created, i.created),
        1,
        TRY_CAST(c.history_id AS BIGINT),
        c.history_id,
        c.item_index,
        c.from_id,
        c.to_id,
        c.author_account_id
    FROM raw_status_changes AS c
    JOIN jira.issues AS i ON i.cloud_id = c.cloud_id AND i.issue_id = c.issue_id
    WHERE c.created IS NOT NULL
),
intervals AS (
    SELECT
        cloud_id,
        issue_id,
        row_number() OVER issue_timeline - 1 AS interval_number,
        CASE
            WHEN kind = 1 THEN to_id
            WHEN lead(kind) OVER issue_timeline IS NULL THEN current_status_id
            ELSE lead(from_id) OVER issue_timeline
        END AS status_id,
        -- the status before this interval: the first change's `from` is the creation row's status
        CASE
            WHEN kind = 0 THEN NULL
            WHEN lag(kind) OVER issue_timeline = 0 THEN from_id
            ELSE lag(to_id) OVER issue_timeline
        END AS previous_status_id,
        happened_at AS entered_at,
        lead(happened_at) OVER issue_timeline AS left_at,
        author_account_id AS changed_by_account_id
    FROM timeline
    WINDOW issue_timeline AS (
        PARTITION BY cloud_id, issue_id ORDER BY kind, happened_at, history_number, history_id, item_index
    )
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
    m.status_name,
    coalesce(m.state, 'open') AS state,
    CASE WHEN x.interval_number > 0 THEN coalesce(previous.state, 'open') END AS previous_state,
    x.entered_at,
    x.left_at,
    (epoch(x.left_at) - epoch(x.entered_at)) / 3600.0 AS hours_in_status,
    x.changed_by_account_id
FROM intervals AS x
JOIN jira.issues AS i ON i.cloud_id = x.cloud_id AND i.issue_id = x.issue_id
LEFT JOIN jira.status_states AS m
    ON m.cloud_id = x.cloud_id AND m.project_id = i.project_id AND m.status_id = x.status_id
LEFT JOIN jira.status_states AS previous
    ON previous.cloud_id = x.cloud_id AND previous.project_id = i.project_id
    AND previous.status_id = x.previous_status_id
