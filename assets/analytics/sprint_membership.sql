-- Sprint membership over time: one row per stay of an issue in a sprint, from the Sprint field's
-- changelog items (`from`/`to` hold the comma-separated sprint ids before and after) and the
-- field's value now (raw_issues.sprint_ids, written the same way). The first value, which Jira
-- records no history for (an issue created in a sprint), is the first change's `from`, or the
-- value now when the field never changed. left_at null = still in the sprint (a closed sprint
-- stays in the field of the issues carried out of it, as Jira keeps it).
-- Inputs: raw_issues, raw_issue_changelog, jira.sync_sites (each site's sprint_field), jira.issues.

CREATE OR REPLACE TABLE analytics.sprint_membership AS
WITH sprint_items AS (
    SELECT c.cloud_id, c.issue_id, c.created AS changed_at, c.history_id, c.item_index, c.from_id, c.to_id
    FROM raw_issue_changelog AS c
    JOIN jira.sync_sites AS s ON s.cloud_id = c.cloud_id
    WHERE c.field_id = s.sprint_field
),
item_parts AS (
    SELECT cloud_id, issue_id, changed_at, history_id, item_index, 'before' AS side,
        unnest(regexp_split_to_array(from_id, ',')) AS part
    FROM sprint_items WHERE from_id IS NOT NULL
    UNION ALL
    SELECT cloud_id, issue_id, changed_at, history_id, item_index, 'after', unnest(regexp_split_to_array(to_id, ','))
    FROM sprint_items WHERE to_id IS NOT NULL
),
item_ids AS (
    SELECT cloud_id, issue_id, changed_at, history_id, item_index, side, trim(part) AS sprint_id
    FROM item_parts WHERE trim(part) <> ''
),
first_items AS (
    -- each issue's first Sprint change
    SELECT cloud_id, issue_id, history_id, item_index
    FROM sprint_items
    QUALIFY row_number() OVER (
        PARTITION BY cloud_id, issue_id ORDER BY changed_at, CAST(history_id AS BIGINT), item_index
    ) = 1
),
now_parts AS (
    SELECT i.cloud_id, i.id AS issue_id, i.created, unnest(regexp_split_to_array(i.sprint_ids, ',')) AS part
    FROM raw_issues AS i
    WHERE i.sprint_ids IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM first_items AS f WHERE f.cloud_id = i.cloud_id AND f.issue_id = i.id)
),
events AS (
    -- the first value, at creation
    SELECT b.cloud_id, b.issue_id, b.sprint_id, i.created AS event_at, 1 AS joined, CAST(0 AS BIGINT) AS seq
    FROM item_ids AS b
    JOIN first_items AS f
        ON f.cloud_id = b.cloud_id AND f.issue_id = b.issue_id AND f.history_id = b.history_id
        AND f.item_index = b.item_index
    JOIN raw_issues AS i ON i.cloud_id = b.cloud_id AND i.id = b.issue_id
    WHERE b.side = 'before'
    UNION ALL
    SELECT cloud_id, issue_id, trim(part), created, 1, CAST(0 AS BIGINT)
    FROM now_parts WHERE trim(part) <> ''
    UNION ALL
    -- joined: after a change, not before it; left: before, not after
    SELECT a.cloud_id, a.issue_id, a.sprint_id, a.changed_at, CASE WHEN a.side = 'after' THEN 1 ELSE 0 END,
        CAST(a.history_id AS BIGINT)
    FROM item_ids AS a
    WHERE NOT EXISTS (
        SELECT 1 FROM item_ids AS o
        WHERE o.cloud_id = a.cloud_id AND o.issue_id = a.issue_id AND o.history_id = a.history_id
            AND o.item_index = a.item_index AND o.sprint_id = a.sprint_id AND o.side <> a.side
    )
),
ordered AS (
    SELECT
        cloud_id, issue_id, sprint_id, event_at, joined,
        lead(event_at) OVER stay AS next_at,
        lead(joined) OVER stay AS next_joined
    FROM events
    WINDOW stay AS (PARTITION BY cloud_id, issue_id, sprint_id ORDER BY event_at, seq, joined DESC)
)
SELECT o.cloud_id, o.sprint_id, o.issue_id, o.event_at AS joined_at,
    CASE WHEN o.next_joined = 0 THEN o.next_at END AS left_at
FROM ordered AS o
JOIN jira.issues AS j ON j.cloud_id = o.cloud_id AND j.issue_id = o.issue_id
WHERE o.joined = 1;
