"""Typed decoding of the two big answers: search/jql issue pages and changelog/bulkfetch pages.

msgspec decodes straight into these Structs and skips every field they do not declare (avatar
URLs, `self` links, user objects, descriptions: most of an ~800 KB page), so a page costs about
1 ms to decode instead of ~5 ms for orjson building the whole dict tree (and the cyclic GC then
walking it). The Structs are not GC-tracked (`gc=False`: they never form cycles).

Scalar leaves are typed `Any` so values reach the flatteners exactly as the JSON had them; a
missing object and a JSON `null` are both None. Webhook deliveries, parsed as dicts by the
receiver, become the same Structs through `issue_from_json`: one flattener for both paths.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec


class Ref(msgspec.Struct, gc=False):
    """project / issuetype / priority / resolution / parent: only the id, key and name."""

    id: Any = None
    key: Any = None
    name: Any = None


class StatusCategory(msgspec.Struct, gc=False):
    key: Any = None


class Status(msgspec.Struct, gc=False):
    id: Any = None
    name: Any = None
    statusCategory: StatusCategory | None = None


class User(msgspec.Struct, gc=False):
    accountId: Any = None


class Fields(msgspec.Struct, gc=False):
    summary: Any = None
    issuetype: Ref | None = None
    status: Status | None = None
    project: Ref | None = None
    priority: Ref | None = None
    resolution: Ref | None = None
    resolutiondate: Any = None
    created: Any = None
    updated: Any = None
    statuscategorychangedate: Any = None
    duedate: Any = None
    labels: Any = None
    parent: Ref | None = None
    assignee: User | None = None
    reporter: User | None = None
    creator: User | None = None


class Item(msgspec.Struct, gc=False):
    field: Any = None
    fieldId: Any = None
    fieldtype: Any = None
    from_: Any = msgspec.field(default=None, name="from")
    fromString: Any = None
    to: Any = None
    toString: Any = None


class History(msgspec.Struct, gc=False):
    id: Any = None
    author: User | None = None
    created: Any = None
    items: list[Item] | None = None


class Changelog(msgspec.Struct, gc=False):
    total: Any = None
    histories: list[History] | None = None


class Issue(msgspec.Struct, gc=False):
    id: Any = None
    key: Any = None
    fields: Fields | None = None
    changelog: Changelog | None = None

    def changelog_complete(self) -> bool:
        """True when the embedded changelog holds every history (Jira truncates it silently)."""
        changelog = self.changelog
        if changelog is None or changelog.total is None:
            return False
        return int(changelog.total) <= len(changelog.histories or ())


class SearchPage(msgspec.Struct, gc=False):
    issues: list[Issue] | None = None
    nextPageToken: Any = None


class IssueChangeLog(msgspec.Struct, gc=False):
    issueId: Any = None
    changeHistories: list[History] | None = None


class BulkChangelogPage(msgspec.Struct, gc=False):
    issueChangeLogs: list[IssueChangeLog] | None = None
    nextPageToken: Any = None


# Decoders are reusable and thread-safe.
BULK_CHANGELOG_DECODER = msgspec.json.Decoder(BulkChangelogPage)


@cache
def issue_type(extra_fields: tuple[str, ...] = ()) -> type[Issue]:
    """`Issue`, with a site's `issues.extra_fields` added to its `Fields` (UNSET if absent)."""
    if not extra_fields:
        return Issue
    fields_type = msgspec.defstruct(
        "FieldsWithExtras",
        [(name, Any, msgspec.UNSET) for name in extra_fields],
        bases=(Fields,),
        gc=False,
    )
    return msgspec.defstruct(
        "IssueWithExtras", [("fields", fields_type | None, None)], bases=(Issue,), gc=False
    )


@cache
def search_decoder(extra_fields: tuple[str, ...] = ()) -> msgspec.json.Decoder:
    """A search page decoder for a site's `issues.extra_fields`."""
    if not extra_fields:
        return msgspec.json.Decoder(SearchPage)
    page_type = msgspec.defstruct(
        "SearchPageWithExtras",
        [("issues", list[issue_type(extra_fields)] | None, None)],
        bases=(SearchPage,),
        gc=False,
    )
    return msgspec.json.Decoder(page_type)


def issue_from_json(issue: Mapping[str, Any], extra_fields: tuple[str, ...] = ()) -> Issue:
    """An issue already parsed into dicts (a webhook delivery's `issue`) as the typed `Issue`."""
    return msgspec.convert(issue, issue_type(extra_fields))


def history_from_json(history: Mapping[str, Any]) -> History:
    return msgspec.convert(history, History)
