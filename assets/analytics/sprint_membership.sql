-- Sprint membership over time: one row per stay of an issue in a sprint, from the Sprint field's
-- changelog items (`from`/`to` hold the comma-separated sprint ids before and after) and the
-- field's value now (raw_issues.sprint_ids). The first value, which Jira records no history for
-- (an issue created in a sprint), is the first change's `from`, or the value now when the field
-- never changed. left_at null = still in the sprint (a closed sprint stays in the field of the
-- issues carried out of it, as Jira keeps it).
-- Inputs: raw_issues, raw_issue_changelog, jira.sync_sites (each site's sprint_field), jira.issues.

CREATE OR REPLACE TABLE analytics.sprint_membership AS
WITH sprint_items AS (
    SELECT
        c.cloud_id,
        c.issue_id,
        c.created AS changed_at,
        c.history_id,
        c.item_index,
        [trim(x) FOR x IN string_split(coalesce(c.from_id, ''), ',') IF trim(x) <> ''] AS before_ids,
        [trim(x) FOR x IN string_split(coalesce(c.to_id, ''), ',') IF trim(x) <> ''] AS after_ids
    FROM raw_issue_changelog AS c
    JOIN jira.sync_sites AS s ON s.cloud_id = c.cloud_id
    WHERE c.field_id = s.sprint_field
),
first_values AS (
    SELECT
        i.cloud_id,
        i.id AS issue_id,
        i.created,
        coalesce(
            (SELECT arg_min(before_ids, (changed_at, CAST(history_id AS BIGINT), item_index))
             FROM sprint_items AS f WHERE f.cloud_id = i.cloud_id AND f.issue_id = i.id),
            from_json(coalesce(i.sprint_ids, '[]'), '["VARCHAR"]')
        ) AS first_ids
    FROM raw_issues AS i
    JOIN jira.issues AS j ON j.cloud_id = i.cloud_id AND j.issue_id = i.id
),
events AS (
    SELECT cloud_id, issue_id, unnest(first_ids) AS sprint_id, created AS event_at, 1 AS joined, 0 AS seq
    FROM first_values
    UNION ALL
    SELECT cloud_id, issue_id, unnest([x FOR x IN after_ids IF NOT list_contains(before_ids, x)]), changed_at, 1,
        CAST(history_id AS BIGINT)
    FROM sprint_items
    UNION ALL
    SELECT cloud_id, issue_id, unnest([x FOR x IN before_ids IF NOT list_contains(after_ids, x)]), changed_at, 0,
        CAST(history_id AS BIGINT)
    FROM sprint_items
),
ordered AS (
    SELECT
        *,
        lead(event_at) OVER stay AS next_at,
        lead(joined) OVER stay AS next_joined
    FROM events
    WINDOW stay AS (PARTITION BY cloud_id, issue_id, sprint_id ORDER BY event_at, seq, joined DESC)
)
SELECT
    cloud_id,
    sprint_id,
    issue_id,
    event_at AS joined_at,
    CASE WHEN next_joined = 0 THEN next_at END AS left_at
FROM ordered
WHERE joined = 1;
