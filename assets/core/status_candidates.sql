-- Every (site, project, status) pair an issue can be in, now or in its history: site-wide
-- statuses in every project, project-scoped statuses in their project, the current status of
-- every issue, and both ends of every status change (a status since deleted from the workflow).
-- The category comes from the catalogue (any scope), else from an issue currently in it.
WITH projects AS (
    SELECT cloud_id, id AS project_id, key AS project_key FROM raw_projects
),
from_catalogue AS (
    SELECT p.cloud_id, p.project_id, p.project_key, s.id AS status_id, s.name AS status_name,
        s.status_category_key, 1 AS preference
    FROM raw_statuses AS s
    JOIN projects AS p
        ON p.cloud_id = s.cloud_id AND (s.scope_project_id IS NULL OR s.scope_project_id = p.project_id)
),
from_issues AS (
    SELECT DISTINCT cloud_id, project_id, project_key, status_id, status_name, status_category_key,
        2 AS preference
    FROM raw_issues
),
changed_statuses AS (
    -- site-wide statuses are already paired with every project: only the others need the issue
    SELECT DISTINCT h.cloud_id, h.issue_id, h.status_id, h.status_name
    FROM (
        SELECT cloud_id, issue_id, from_id AS status_id, from_string AS status_name FROM raw_status_changes
        UNION ALL
        SELECT cloud_id, issue_id, to_id, to_string FROM raw_status_changes
    ) AS h
    ANTI JOIN (SELECT cloud_id, id AS status_id FROM raw_statuses WHERE scope_project_id IS NULL) AS site_wide
        USING (cloud_id, status_id)
),
from_history AS (
    SELECT DISTINCT i.cloud_id, i.project_id, i.project_key, h.status_id, h.status_name,
        CAST(NULL AS VARCHAR) AS status_category_key, 3 AS preference
    FROM changed_statuses AS h
    JOIN raw_issues AS i ON i.cloud_id = h.cloud_id AND i.id = h.issue_id
),
site_categories AS (
    SELECT cloud_id, id AS status_id, min(status_category_key) AS status_category_key
    FROM raw_statuses
    GROUP BY ALL
),
issue_categories AS (
    SELECT cloud_id, status_id, min(status_category_key) AS status_category_key
    FROM raw_issues
    WHERE status_category_key IS NOT NULL
    GROUP BY ALL
)
SELECT
    c.cloud_id,
    c.project_id,
    c.project_key,
    c.status_id,
    c.status_name,
    coalesce(c.status_category_key, site_categories.status_category_key, issue_categories.status_category_key)
        AS status_category_key
FROM (
    SELECT * FROM from_catalogue UNION ALL SELECT * FROM from_issues UNION ALL SELECT * FROM from_history
) AS c
LEFT JOIN site_categories USING (cloud_id, status_id)
LEFT JOIN issue_categories USING (cloud_id, status_id)
WHERE c.status_id IS NOT NULL AND c.project_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY c.cloud_id, c.project_id, c.status_id ORDER BY c.preference, c.status_name
) = 1
