"""JQL field names (with their aliases) and the kinds of clause each field takes."""

from __future__ import annotations

FIELD_ALIASES = {
    "issuekey": "key",
    "key": "key",
    "id": "id",
    "project": "project",
    "issuetype": "issuetype",
    "type": "issuetype",
    "status": "status",
    "statuscategory": "statuscategory",
    "assignee": "assignee",
    "reporter": "reporter",
    "creator": "creator",
    "parent": "parent",
    "created": "created",
    "createddate": "created",
    "updated": "updated",
    "updateddate": "updated",
    "resolved": "resolved",
    "resolutiondate": "resolved",
    "statuscategorychangeddate": "statuscategorychangeddate",
    "due": "duedate",
    "duedate": "duedate",
    "priority": "priority",
    "resolution": "resolution",
    "labels": "labels",
    "summary": "summary",
    "text": "text",
    "description": "description",
    "component": "component",
    "fixversion": "fixversion",
}
DATE_FIELDS = {"created", "updated", "resolved", "statuscategorychangeddate", "duedate"}
TEXT_FIELDS = {"summary", "text", "description"}
ORDERED_ID_FIELDS = {"key", "id"}
USER_FIELDS = {"assignee": "assignee_id", "reporter": "reporter_id", "creator": "creator_id"}
