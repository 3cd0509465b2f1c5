-- Status -> state for each row of `status_candidates`
-- (cloud_id, project_id, project_key, status_id, status_name, status_category_key).
-- 1. a per-project override of the sync file (by status id, else by name, case-insensitive)
--    -> state_rule 'override:<PROJECT>';
-- 2. else the status category: new (To Do) -> open, indeterminate (In Progress) -> in_progress,
--    done -> closed, undefined (No Category) -> open; a status whose category is unknown (gone
--    from the workflow, seen only in history) -> open -> state_rule 'category:<key>' / 'category:unknown'.
WITH override AS (
    SELECT c.cloud_id, c.project_id, c.status_id, o.state, 'override:' || o.project_key AS rule
    FROM status_candidates AS c
    JOIN jira.sync_sites AS s ON s.cloud_id = c.cloud_id
    JOIN jira.sync_status_overrides AS o
        ON o.tenant_id = s.tenant_id
        AND o.site_name = s.site_name
        AND o.project_key = upper(c.project_key)
        AND (o.status_key = c.status_id OR lower(trim(o.status_key)) = lower(trim(c.status_name)))
    QUALIFY row_number() OVER (
        PARTITION BY c.cloud_id, c.project_id, c.status_id ORDER BY (o.status_key = c.status_id) DESC
    ) = 1
)
SELECT
    c.cloud_id,
    c.project_id,
    c.project_key,
    c.status_id,
    c.status_name,
    c.status_category_key,
    coalesce(
        override.state,
        CASE c.status_category_key
            WHEN 'new' THEN 'open'
            WHEN 'indeterminate' THEN 'in_progress'
            WHEN 'done' THEN 'closed'
            ELSE 'open'
        END
    ) AS state,
    coalesce(override.rule, 'category:' || coalesce(c.status_category_key, 'unknown')) AS state_rule
FROM status_candidates AS c
LEFT JOIN override USING (cloud_id, project_id, status_id)
