-- Every (site, project, issue type) pair an issue can have: site-wide types in every project of
-- the site, project-scoped (team-managed) types in their project, and any pair seen on an issue
-- (a type the catalogue lacks). Names from the catalogue win: they are the current names.
WITH projects AS (
    SELECT cloud_id, id AS project_id, key AS project_key FROM raw_projects
),
from_catalogue AS (
    SELECT p.cloud_id, p.project_id, p.project_key, t.id AS issue_type_id, t.name AS issue_type_name, 1 AS preference
    FROM raw_issue_types AS t
    JOIN projects AS p
        ON p.cloud_id = t.cloud_id AND (t.scope_project_id IS NULL OR t.scope_project_id = p.project_id)
),
from_issues AS (
    SELECT DISTINCT cloud_id, project_id, project_key, issue_type_id, issue_type_name, 2 AS preference
    FROM raw_issues
)
SELECT cloud_id, project_id, project_key, issue_type_id, issue_type_name
FROM (SELECT * FROM from_catalogue UNION ALL SELECT * FROM from_issues)
WHERE issue_type_id IS NOT NULL AND project_id IS NOT NULL
QUALIFY row_number() OVER (
    PARTITION BY cloud_id, project_id, issue_type_id ORDER BY preference, issue_type_name
) = 1
