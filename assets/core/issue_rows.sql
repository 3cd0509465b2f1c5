-- The rows of jira.issues for the raw-shaped issues in `issue_source` (columns of
-- jira_raw.issues): the original names and ids plus the category, state and the rules that
-- decided them, and the tenant of the site.
SELECT
    site.tenant_id,
    i.cloud_id,
    i.id AS issue_id,
    i.key AS issue_key,
    i.summary,
    i.project_id,
    i.project_key,
    i.issue_type_id,
    i.issue_type_name,
    coalesce(t.type_category, 'other') AS type_category,
    coalesce(t.type_rule, 'default') AS type_rule,
    i.status_id,
    i.status_name,
    i.status_category_key,
    coalesce(st.state, 'open') AS state,
    coalesce(st.state_rule, 'category:unknown') AS state_rule,
    i.priority_name,
    i.resolution_name,
    i.parent_id,
    i.parent_key,
    i.assignee_account_id,
    i.reporter_account_id,
    i.creator_account_id,
    i.labels,
    i.created,
    i.updated,
    i.resolved,
    i.due_date,
    i.synced_at
FROM issue_source AS i
LEFT JOIN raw_sites AS site USING (cloud_id)
LEFT JOIN jira.issue_type_categories AS t
    ON t.cloud_id = i.cloud_id AND t.project_id = i.project_id AND t.issue_type_id = i.issue_type_id
LEFT JOIN jira.status_states AS st
    ON st.cloud_id = i.cloud_id AND st.project_id = i.project_id AND st.status_id = i.status_id
