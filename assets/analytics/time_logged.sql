-- Work logged on the issues jira.issues holds (a worklog of a deleted issue goes with it), with the
-- author's linked account and the author's primary team (jira.primary_teams: the team a person's
-- work counts for); an author in no team is the group team_name '(no team)' (team_id null).
-- Inputs: raw_worklogs, jira.issues, jira.user_links, jira.primary_teams.

CREATE OR REPLACE TABLE jira.worklogs AS
SELECT
    i.tenant_id,
    w.cloud_id,
    w.id AS worklog_id,
    w.issue_id,
    i.issue_key,
    i.project_key,
    w.author_account_id AS jira_account_id,
    link.account_id,
    team.team_id,
    coalesce(team.team_name, '(no team)') AS team_name,
    w.started,
    w.time_spent_seconds,
    w.created,
    w.updated
FROM raw_worklogs AS w
JOIN jira.issues AS i ON i.cloud_id = w.cloud_id AND i.issue_id = w.issue_id
LEFT JOIN jira.user_links AS link ON link.cloud_id = w.cloud_id AND link.jira_account_id = w.author_account_id
LEFT JOIN jira.primary_teams AS team
    ON team.cloud_id = w.cloud_id AND team.jira_account_id = w.author_account_id;

-- Time logged per site, project, issue, person and team and UTC day the work started.
CREATE OR REPLACE TABLE analytics.time_logged AS
SELECT
    tenant_id,
    cloud_id,
    project_key,
    issue_id,
    issue_key,
    jira_account_id,
    account_id,
    team_id,
    team_name,
    CAST(started AS DATE) AS day,
    count(*) AS worklogs,
    CAST(sum(time_spent_seconds) AS BIGINT) AS seconds,
    CAST(round(sum(time_spent_seconds) / 3600.0, 2) AS DOUBLE) AS hours
FROM jira.worklogs
GROUP BY ALL;
