-- Issue type -> category for each row of `type_candidates`
-- (cloud_id, project_id, project_key, issue_type_id, issue_type_name).
-- 1. a custom mapping of the project in the sync file (by type id, else by name, case-insensitive)
--    -> type_rule 'custom:<PROJECT>';
-- 2. else the first category, in the sync file's order, with a keyword contained in the name
--    (case-insensitive); within that category the first listed keyword that matches is reported
--    -> type_rule 'keyword:<word>';
-- 3. else 'other' -> type_rule 'default'.
WITH custom AS (
    SELECT c.cloud_id, c.project_id, c.issue_type_id, o.category, 'custom:' || o.project_key AS rule
    FROM type_candidates AS c
    JOIN jira.sync_sites AS s ON s.cloud_id = c.cloud_id
    JOIN jira.sync_type_overrides AS o
        ON o.tenant_id = s.tenant_id
        AND o.site_name = s.site_name
        AND o.project_key = upper(c.project_key)
        AND (o.type_key = c.issue_type_id OR lower(trim(o.type_key)) = lower(trim(c.issue_type_name)))
    QUALIFY row_number() OVER (
        PARTITION BY c.cloud_id, c.project_id, c.issue_type_id ORDER BY (o.type_key = c.issue_type_id) DESC
    ) = 1
),
keyword AS (
    SELECT c.cloud_id, c.project_id, c.issue_type_id, k.category, 'keyword:' || k.keyword AS rule
    FROM type_candidates AS c
    JOIN jira.sync_type_keywords AS k ON contains(lower(c.issue_type_name), k.keyword)
    QUALIFY row_number() OVER (
        PARTITION BY c.cloud_id, c.project_id, c.issue_type_id ORDER BY k.category_rank, k.keyword_rank
    ) = 1
)
SELECT
    c.cloud_id,
    c.project_id,
    c.project_key,
    c.issue_type_id,
    c.issue_type_name,
    coalesce(custom.category, keyword.category, 'other') AS type_category,
    coalesce(custom.rule, keyword.rule, 'default') AS type_rule
FROM type_candidates AS c
LEFT JOIN custom USING (cloud_id, project_id, issue_type_id)
LEFT JOIN keyword USING (cloud_id, project_id, issue_type_id)
