"""A small `jira_raw` world with recent flow: issues created over the last ~30 weeks, started,
reviewed, closed or still in progress, assigned to people in teams (or not), on two sites."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from tests.assets.core.transform_world import (
    ALPHA,
    BETA,
    insert,
    insert_people,
    insert_statuses,
    new_warehouse,
)

STATUSES = {
    "1": ("To Do", "new"),
    "3": ("In Progress", "indeterminate"),
    "4": ("In Review", "indeterminate"),
    "5": ("Done", "done"),
}
TYPES = {"10001": "Story", "10002": "Bug", "10003": "Incident", "10004": "Task"}
PROJECTS = {"OPS": (ALPHA, "101"), "WEB": (ALPHA, "102"), "SUP": (BETA, "201")}
# u1 and u2 are in the group "core", u3 in "web"; u4 is in no group; beta syncs no teams here.
PEOPLE = ["u1", "u2", "u3", "u4", None]


def write_flow_world(warehouse: Path, *, issues: int = 140, seed: int = 7) -> datetime:
    """Create the warehouse with the world; returns the `now` the histories end at."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    new_warehouse(warehouse)
    issue_rows, changes = [], []
    counters = dict.fromkeys(PROJECTS, 0)
    for n in range(issues):
        project = rng.choices(list(PROJECTS), weights=[5, 3, 2])[0]
        cloud_id, project_id = PROJECTS[project]
        counters[project] += 1
        type_id = rng.choices(list(TYPES), weights=[5, 2, 1, 3])[0]
        created = now - timedelta(days=rng.uniform(1, 210))
        assignee = (
            rng.choices(PEOPLE, weights=[3, 3, 2, 1, 2])[0] if cloud_id == ALPHA else rng.choice(["u9", None])
        )
        history = [("1", created)]
        roll = rng.random()
        if roll > 0.15:  # started
            started = created + timedelta(days=rng.uniform(0.1, 12))
            reviewed = started + timedelta(days=rng.lognormvariate(0.8, 1.0))
            done = reviewed + timedelta(days=rng.uniform(0.05, 3))
            for status, moment in (("3", started), ("4", reviewed), ("5", done)):
                if moment >= now - timedelta(hours=1) or (status == "5" and roll < 0.3):
                    break
                history.append((status, moment))
        status_id = history[-1][0]
        issue_id = str(1000 + n)
        issue_rows.append(
            {
                "cloud_id": cloud_id,
                "id": issue_id,
                "key": f"{project}-{counters[project]}",
                "project_id": project_id,
                "project_key": project,
                "issue_type_id": type_id,
                "issue_type_name": TYPES[type_id],
                "status_id": status_id,
                "status_name": STATUSES[status_id][0],
                "status_category_key": STATUSES[status_id][1],
                "assignee_account_id": assignee,
                "created": created,
                "updated": history[-1][1],
                "synced_at": now,
            }
        )
        for number, ((before, _), (after, moment)) in enumerate(zip(history, history[1:], strict=False)):
            changes.append(
                _change(cloud_id, issue_id, f"{issue_id}{number}", 0, moment, "status", before, after)
            )
            if number == 0 and assignee is not None:
                changes.append(
                    _change(cloud_id, issue_id, f"{issue_id}{number}", 1, moment, "assignee", None, assignee)
                )
    with duckdb.connect(str(warehouse)) as con:
        insert(con, "projects", [{"cloud_id": c, "id": i, "key": k} for k, (c, i) in PROJECTS.items()])
        insert(
            con,
            "issue_types",
            [{"cloud_id": c, "id": i, "name": n} for c in (ALPHA, BETA) for i, n in TYPES.items()],
        )
        insert_statuses(con, STATUSES)
        insert_people(
            con, ALPHA, ["u1", "u2", "u3", "u4"], {"g-core": ("Core", ["u1", "u2"]), "g-web": ("Web", ["u3"])}
        )
        insert(con, "issues", issue_rows)
        insert(con, "issue_changelog", changes)
    return now


def _change(cloud_id, issue_id, history_id, item_index, when, field, from_id, to_id):
    return {
        "cloud_id": cloud_id,
        "issue_id": issue_id,
        "history_id": history_id,
        "item_index": item_index,
        "created": when,
        "field": field,
        "field_id": field,
        "from_id": from_id,
        "to_id": to_id,
    }
