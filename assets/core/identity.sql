-- Links every Jira user to one account of its tenant. jira.accounts and jira.user_links are
-- persistent: rows are added (and CSV accounts updated), never rebuilt, so a link made once
-- survives every later run, whatever happens to the user's email.
-- Inputs: raw_users, raw_sites, temp table accounts_csv_rows(tenant_id, account_id, email, display_name).

CREATE TABLE IF NOT EXISTS jira.accounts (
    tenant_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,            -- person | bot | customer: kinds are never merged
    email VARCHAR,                    -- normalised (lower case, no spaces); as first known
    display_name VARCHAR,
    source VARCHAR NOT NULL,          -- csv (imported) | jira (created from a Jira user)
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS jira.user_links (
    tenant_id VARCHAR NOT NULL,
    cloud_id VARCHAR NOT NULL,
    jira_account_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    link_method VARCHAR NOT NULL,     -- account_id | email | new_account | csv_import
    linked_at TIMESTAMPTZ NOT NULL
);

-- 1. Accounts from the tenant's CSV: new ones are added, known ones take the CSV's email and name.
UPDATE jira.accounts AS a
SET email = c.email, display_name = c.display_name, updated_at = now()
FROM accounts_csv_rows AS c
WHERE a.tenant_id = c.tenant_id AND a.account_id = c.account_id
    AND (a.email IS DISTINCT FROM c.email OR a.display_name IS DISTINCT FROM c.display_name);

INSERT INTO jira.accounts
SELECT c.tenant_id, c.account_id, 'person', c.email, c.display_name, 'csv', now(), now()
FROM accounts_csv_rows AS c
ANTI JOIN jira.accounts AS a USING (tenant_id, account_id);

-- The Jira users of this run, with their tenant, kind and normalised email.
CREATE OR REPLACE TEMP TABLE jira_users AS
SELECT
    site.tenant_id,
    u.cloud_id,
    u.account_id AS jira_account_id,
    CASE u.account_type WHEN 'app' THEN 'bot' WHEN 'customer' THEN 'customer' ELSE 'person' END AS kind,
    nullif(lower(regexp_replace(u.email_address, '\s', '', 'g')), '') AS email,
    u.display_name,
    u.account_type,
    u.active
FROM raw_users AS u
LEFT JOIN raw_sites AS site USING (cloud_id)
WHERE u.account_id IS NOT NULL;

-- Users of a known tenant without a link on their site (re-evaluated after every step).
CREATE OR REPLACE TEMP VIEW pending_users AS
SELECT u.*
FROM jira_users AS u
ANTI JOIN jira.user_links AS l USING (cloud_id, jira_account_id)
WHERE u.tenant_id IS NOT NULL;

-- 2. By Jira account ID: the same Atlassian account was linked before (on another site of the
--    tenant); its email is not looked at, so an email change never breaks the link.
INSERT INTO jira.user_links
SELECT p.tenant_id, p.cloud_id, p.jira_account_id, prior.account_id, 'account_id', now()
FROM pending_users AS p
JOIN (
    -- the first link; links made in one run share linked_at, so the account id breaks the tie
    SELECT tenant_id, jira_account_id, list(account_id ORDER BY linked_at, account_id)[1] AS account_id
    FROM jira.user_links
    GROUP BY ALL
) AS prior USING (tenant_id, jira_account_id);

-- 3. By email: an account of the same tenant and kind with the same normalised email; accounts
--    imported from the CSV first, then the oldest.
INSERT INTO jira.user_links
SELECT p.tenant_id, p.cloud_id, p.jira_account_id, a.account_id,
    CASE a.source WHEN 'csv' THEN 'csv_import' ELSE 'email' END, now()
FROM pending_users AS p
JOIN (
    SELECT *
    FROM jira.accounts
    WHERE email IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY tenant_id, kind, email ORDER BY source <> 'csv', created_at, account_id
    ) = 1
) AS a USING (tenant_id, kind, email);

-- 4. A new account for each remaining email (one per tenant, kind and email), and one per bot
--    (apps have no email: a bot's account is its Jira account).
CREATE OR REPLACE TEMP TABLE new_identities AS
SELECT
    p.*,
    'jira-' || substr(md5(p.tenant_id || '|' || p.kind || '|' || coalesce(p.email, 'account:' || p.jira_account_id)), 1, 24)
        AS account_id
FROM pending_users AS p
WHERE p.email IS NOT NULL OR p.kind = 'bot';

INSERT INTO jira.accounts
SELECT tenant_id, account_id, kind, email, display_name, 'jira', now(), now()
FROM new_identities
ANTI JOIN jira.accounts USING (tenant_id, account_id)
QUALIFY row_number() OVER (PARTITION BY tenant_id, account_id ORDER BY cloud_id, jira_account_id) = 1;

INSERT INTO jira.user_links
SELECT tenant_id, cloud_id, jira_account_id, account_id, 'new_account', now()
FROM new_identities;

-- 5. Who is left, and why (rebuilt every run: it is the current list).
CREATE OR REPLACE TABLE jira.unlinked_users AS
SELECT
    u.tenant_id,
    u.cloud_id,
    u.jira_account_id,
    u.display_name,
    u.account_type,
    u.kind,
    u.active,
    CASE
        WHEN u.tenant_id IS NULL THEN 'unknown_site'
        WHEN u.account_type = 'atlassian' THEN 'hidden_email'
        ELSE 'no_email'
    END AS reason
FROM jira_users AS u
ANTI JOIN jira.user_links AS l USING (cloud_id, jira_account_id);
