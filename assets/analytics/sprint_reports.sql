-- Jira's sprint report, per sprint that has started: issues committed at the start, added after
-- it, removed before the end, completed (done when the sprint completed) and not completed (still
-- in the sprint, not done, when it completed: carried over to another sprint or left for the
-- backlog), with story points where the board estimates with a field the site keeps in
-- issues.extra_fields. An active sprint counts up to now (not_completed is null until it ends).
-- Points are the estimate at the moment that counts: at the start for committed issues, when an
-- issue joined (added) or left (removed), at completion for completed and not completed ones;
-- read back from the estimate field's changelog, else its value now.
-- Inputs: analytics.sprint_membership, analytics.issue_status_history, raw_sprints, raw_boards,
-- raw_issues, raw_issue_changelog.

CREATE OR REPLACE TABLE analytics.sprint_reports AS
WITH sprints AS (
    SELECT
        s.cloud_id,
        s.id AS sprint_id,
        s.board_id,
        b.name AS board_name,
        b.project_key,
        s.name AS sprint_name,
        s.state,
        s.start_date,
        s.end_date,
        s.complete_date,
        coalesce(s.complete_date, now()) AS counted_until,
        b.estimation_field_id
    FROM raw_sprints AS s
    LEFT JOIN raw_boards AS b ON b.cloud_id = s.cloud_id AND b.id = s.board_id
    WHERE s.state IN ('active', 'closed') AND s.start_date IS NOT NULL
),
stays AS (
    SELECT s.*, m.issue_id, m.joined_at, m.left_at
    FROM sprints AS s
    JOIN analytics.sprint_membership AS m ON m.cloud_id = s.cloud_id AND m.sprint_id = s.sprint_id
    WHERE m.joined_at <= s.counted_until AND (m.left_at IS NULL OR m.left_at > m.joined_at)
),
per_issue AS (
    SELECT
        cloud_id, sprint_id, issue_id,
        any_value(estimation_field_id) AS estimation_field_id,
        any_value(start_date) AS start_date,
        any_value(counted_until) AS counted_until,
        any_value(state) AS state,
        bool_or(joined_at <= start_date AND (left_at IS NULL OR left_at > start_date)) AS committed,
        bool_or(joined_at > start_date) AS joined_during,
        min(joined_at) FILTER (WHERE joined_at > start_date) AS added_at,
        bool_or(left_at IS NOT NULL AND left_at > start_date AND left_at <= counted_until) AS left_during,
        max(left_at) FILTER (WHERE left_at > start_date AND left_at <= counted_until) AS removed_at,
        bool_or(joined_at <= counted_until AND (left_at IS NULL OR left_at > counted_until)) AS in_at_end
    FROM stays
    GROUP BY cloud_id, sprint_id, issue_id
),
outcomes AS (
    SELECT
        p.*,
        NOT p.committed AND p.joined_during AS added,
        p.left_during AND NOT p.in_at_end AS removed,
        p.in_at_end AND done.issue_id IS NOT NULL AS completed,
        p.state = 'closed' AND p.in_at_end AND done.issue_id IS NULL AS not_completed
    FROM per_issue AS p
    LEFT JOIN analytics.issue_status_history AS done
        ON done.cloud_id = p.cloud_id AND done.issue_id = p.issue_id AND done.state = 'closed'
        AND done.entered_at <= p.counted_until AND (done.left_at IS NULL OR done.left_at > p.counted_until)
),
carried AS (
    -- not completed issues that joined another sprint when this one completed (Jira's "move to")
    SELECT DISTINCT o.cloud_id, o.sprint_id, o.issue_id
    FROM outcomes AS o
    JOIN analytics.sprint_membership AS next
        ON next.cloud_id = o.cloud_id AND next.issue_id = o.issue_id AND next.sprint_id <> o.sprint_id
        AND next.joined_at BETWEEN o.counted_until - INTERVAL 1 MINUTE AND o.counted_until + INTERVAL 1 MINUTE
    WHERE o.not_completed
),
estimates AS (
    SELECT c.cloud_id, c.issue_id, c.field_id, c.created AS changed_at, TRY_CAST(c.from_string AS DOUBLE) AS before
    FROM raw_issue_changelog AS c
    WHERE c.field_id IN (SELECT estimation_field_id FROM sprints)
),
moments AS (
    -- each way an issue counts for a sprint, with the moment its estimate is read at
    SELECT cloud_id, sprint_id, issue_id, estimation_field_id, 'committed' AS counted, start_date AS read_at
    FROM outcomes WHERE committed
    UNION ALL
    SELECT cloud_id, sprint_id, issue_id, estimation_field_id, 'added', added_at FROM outcomes WHERE added
    UNION ALL
    SELECT cloud_id, sprint_id, issue_id, estimation_field_id, 'removed', removed_at FROM outcomes WHERE removed
    UNION ALL
    SELECT cloud_id, sprint_id, issue_id, estimation_field_id, 'completed', counted_until
    FROM outcomes WHERE completed
    UNION ALL
    SELECT cloud_id, sprint_id, issue_id, estimation_field_id, 'not_completed', counted_until
    FROM outcomes WHERE not_completed
),
points AS (
    SELECT
        m.*,
        CASE
            WHEN m.estimation_field_id IS NULL THEN NULL
            WHEN later.changes > 0 THEN later.before
            ELSE TRY_CAST(json_extract_string(i.extra_fields, '$.' || m.estimation_field_id) AS DOUBLE)
        END AS points
    FROM moments AS m
    LEFT JOIN raw_issues AS i ON i.cloud_id = m.cloud_id AND i.id = m.issue_id
    LEFT JOIN LATERAL (
        SELECT count(*) AS changes, arg_min(e.before, e.changed_at) AS before
        FROM estimates AS e
        WHERE e.cloud_id = m.cloud_id AND e.issue_id = m.issue_id AND e.field_id = m.estimation_field_id
            AND e.changed_at > m.read_at
    ) AS later ON true
)
SELECT
    s.cloud_id,
    s.board_id,
    s.board_name,
    s.project_key,
    s.sprint_id,
    s.sprint_name,
    s.state,
    s.start_date,
    s.end_date,
    s.complete_date,
    s.estimation_field_id,
    count(*) FILTER (WHERE p.counted = 'committed') AS committed_issues,
    count(*) FILTER (WHERE p.counted = 'added') AS added_issues,
    count(*) FILTER (WHERE p.counted = 'removed') AS removed_issues,
    count(*) FILTER (WHERE p.counted = 'completed') AS completed_issues,
    CASE WHEN s.state = 'closed' THEN count(*) FILTER (WHERE p.counted = 'not_completed') END
        AS not_completed_issues,
    CASE WHEN s.state = 'closed' THEN count(c.issue_id) END AS carried_over_issues,
    sum(p.points) FILTER (WHERE p.counted = 'committed') AS committed_points,
    sum(p.points) FILTER (WHERE p.counted = 'added') AS added_points,
    sum(p.points) FILTER (WHERE p.counted = 'removed') AS removed_points,
    sum(p.points) FILTER (WHERE p.counted = 'completed') AS completed_points,
    CASE WHEN s.state = 'closed' THEN sum(p.points) FILTER (WHERE p.counted = 'not_completed') END
        AS not_completed_points
FROM sprints AS s
LEFT JOIN points AS p ON p.cloud_id = s.cloud_id AND p.sprint_id = s.sprint_id
LEFT JOIN carried AS c
    ON c.cloud_id = p.cloud_id AND c.sprint_id = p.sprint_id AND c.issue_id = p.issue_id
    AND p.counted = 'not_completed'
GROUP BY
    s.cloud_id, s.board_id, s.board_name, s.project_key, s.sprint_id, s.sprint_name, s.state,
    s.start_date, s.end_date, s.complete_date, s.estimation_field_id;
