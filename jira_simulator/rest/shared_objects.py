"""What `filter/search` and `dashboard/search` share: the owner, group and project filters (each a
pair Jira refuses together) and the orderings by name, id, description, favourites and owner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jira_simulator.errors import bad_request
from jira_simulator.model import Dashboard, Filter
from jira_simulator.rest.common import RestCall

SharedObject = Filter | Dashboard


@dataclass(frozen=True)
class SharedQuery:
    name: str
    owner: str | None
    group_id: str | None
    project_id: str | None

    def matches(self, found: SharedObject) -> bool:
        shares = found.share_permissions
        return (
            self.name in found.name.casefold()
            and (self.owner is None or found.owner_account_id == self.owner)
            and (self.group_id is None or any(s.group_id == self.group_id for s in shares))
            and (self.project_id is None or any(s.project_id == self.project_id for s in shares))
        )


def shared_query(call: RestCall, name_parameter: str) -> SharedQuery:
    params = call.request.query_params
    if params.get("accountId") and params.get("owner"):
        raise bad_request("The owner and accountId parameters cannot be combined; use accountId.")
    if params.get("groupname") and params.get("groupId"):
        raise bad_request("The groupname and groupId parameters cannot be combined; use groupId.")
    group_id = params.get("groupId") or next(
        (g.group_id for g in call.site.groups.values() if g.name == params.get("groupname")), None
    )
    return SharedQuery(
        (params.get(name_parameter) or "").casefold(),
        params.get("accountId") or params.get("owner"),
        group_id,
        params.get("projectId"),
    )


def sort_shared(call: RestCall, found: Sequence[SharedObject], *, favourite: str) -> list[SharedObject]:
    """Order by `orderBy` (default name, `-` descending); `favourite` is the spelling the operation
    uses (`favourite` for filters, `favorite` for dashboards)."""
    order = call.request.query_params.get("orderBy", "name")
    viewer = call.principal.account_id
    users = call.world.users
    keys: dict[str, Callable[[Any], Any]] = {
        "name": lambda o: o.name.casefold(),
        "id": lambda o: int(o.id),
        "description": lambda o: o.description.casefold(),
        f"{favourite}_count": lambda o: len(o.favourited_by),
        f"is_{favourite}": lambda o: viewer in o.favourited_by,
        "owner": lambda o: (
            users[o.owner_account_id].display_name.casefold() if o.owner_account_id in users else ""
        ),
    }
    if favourite == "favourite":
        keys["is_shared"] = lambda o: bool(o.share_permissions)
    key = keys.get(order.lstrip("+-"))
    if key is None:
        raise bad_request(
            f"orderBy: '{order}' is not supported; use one of {', '.join(sorted(keys))} (optionally -)."
        )
    return sorted(found, key=key, reverse=order.startswith("-"))
