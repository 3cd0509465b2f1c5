"""dlt paginators for Jira's three paging styles (cursor token, PageBean, bare arrays)."""

from __future__ import annotations

from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONResponseCursorPaginator
from requests import Request, Response


class JiraCursorPaginator(JSONResponseCursorPaginator):
    """`nextPageToken` in the JSON body (search/jql, changelog/bulkfetch).

    Stops when the token is absent or the page is empty (integrators report `isLast` as
    unreliable), and fails on a repeated token instead of looping forever.
    """

    def __init__(self) -> None:
        super().__init__(
            cursor_path="nextPageToken", cursor_body_path="nextPageToken", stop_after_empty_page=True
        )
        self._seen: set[str] = set()

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        token = self._next_reference
        if self._has_next_page and token is not None:
            if token in self._seen:
                raise repeated_token_error(response)
            self._seen.add(token)


def repeated_token_error(response: Response) -> RuntimeError:
    return RuntimeError(
        f"{response.request.method} {response.request.path_url.split('?')[0]} returned the same "
        "nextPageToken twice; stopping instead of looping (a Jira paging fault, run again)"
    )


class _StartAtPaginator(BasePaginator):
    """`startAt`/`maxResults` offsets; subclasses decide from the answer when to stop."""

    def __init__(self, page_size: int) -> None:
        super().__init__()
        self.page_size = page_size
        self.start_at = 0

    def init_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "startAt": 0, "maxResults": self.page_size}

    def update_request(self, request: Request) -> None:
        request.params["startAt"] = self.start_at


class PageBeanPaginator(_StartAtPaginator):
    """`startAt`/`maxResults` with a PageBean answer (`values`, `isLast`, `total`)."""

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        count = len(data or [])
        self.start_at += count
        total = body.get("total") if isinstance(body, dict) else None
        is_last = body.get("isLast") if isinstance(body, dict) else None
        if (
            count == 0
            or is_last is True
            or (is_last is None and total is not None and self.start_at >= total)
        ):
            self._has_next_page = False


class ArrayPagePaginator(_StartAtPaginator):
    """`startAt`/`maxResults` answered by a bare JSON array (users/search): stop on an empty page."""

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        count = len(data or [])
        self.start_at += count
        if count == 0:
            self._has_next_page = False


def teams_paginator() -> JSONResponseCursorPaginator:
    """Teams list: `cursor` query parameter, continue while the answer's `cursor` is non-null."""
    return JSONResponseCursorPaginator(cursor_path="cursor", cursor_param="cursor")


def team_members_paginator() -> JSONResponseCursorPaginator:
    """Team members (POST): Relay-style `after` in the body, `pageInfo.endCursor`/`hasNextPage`."""
    return JSONResponseCursorPaginator(
        cursor_path="pageInfo.endCursor", cursor_body_path="after", has_more_path="pageInfo.hasNextPage"
    )
