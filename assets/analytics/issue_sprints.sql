-- Every issue's sprints now: one row per issue and sprint in its Sprint field (closed sprints it
-- was carried out of included), with the sprint's name, state and board.
-- Inputs: raw_issues (sprint_ids: comma-separated ids), raw_sprints, jira.issues.

CREATE OR REPLACE TABLE jira.issue_sprints AS
WITH parts AS (
    SELECT i.cloud_id, i.id AS issue_id, unnest(regexp_split_to_array(i.sprint_ids, ',')) AS part
    FROM raw_issues AS i
    WHERE i.sprint_ids IS NOT NULL
),
memberships AS (
    SELECT DISTINCT cloud_id, issue_id, trim(part) AS sprint_id FROM parts WHERE trim(part) <> ''
)
SELECT
    j.tenant_id,
    m.cloud_id,
    m.issue_id,
    j.issue_key,
    j.project_key,
    m.sprint_id,
    s.name AS sprint_name,
    s.state AS sprint_state,
    s.board_id
FROM memberships AS m
JOIN jira.issues AS j ON j.cloud_id = m.cloud_id AND j.issue_id = m.issue_id
LEFT JOIN raw_sprints AS s ON s.cloud_id = m.cloud_id AND s.id = m.sprint_id;
