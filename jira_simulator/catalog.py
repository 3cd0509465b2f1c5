"""The configuration a fresh Jira Cloud site comes with, plus the custom parts real sites add.

Generated worlds and scenario files both start from these (scenarios may replace them). IDs
follow Jira's habits: built-in statuses keep small ids (In Progress = 3, Closed = 6), custom ones
start at 10000.
"""

from __future__ import annotations

from dataclasses import dataclass

from jira_simulator.model import IssueType, Priority, Resolution, Status, Transition, Workflow

# name -> (id, status category id). Category ids: 2 To Do ("new"), 4 In Progress, 3 Done.
STANDARD_STATUSES: dict[str, tuple[str, int]] = {
    "To Do": ("10000", 2),
    "In Progress": ("3", 4),
    "Done": ("10001", 3),
    "Backlog": ("10002", 2),
    "Selected for Development": ("10003", 2),
    "In Review": ("10004", 4),
    "QA": ("10005", 4),
    "Closed": ("6", 3),
    "Won't Do": ("10006", 3),
    "Waiting for Customer": ("10007", 4),
    "Reopened": ("4", 2),
}

STATUS_DESCRIPTIONS = {
    "Backlog": "Work that has not been planned yet.",
    "Selected for Development": "Planned for the current iteration.",
    "In Review": "Waiting for a code review.",
    "QA": "Being verified by quality assurance.",
    "Won't Do": "Closed without doing the work.",
    "Waiting for Customer": "Waiting for the customer to answer.",
}

# name -> (id, hierarchy level, subtask, description)
STANDARD_ISSUE_TYPES: dict[str, tuple[str, int, bool, str]] = {
    "Epic": ("10000", 1, False, "A big user story that needs to be broken down."),
    "Story": ("10001", 0, False, "Functionality or a feature expressed as a user goal."),
    "Task": ("10002", 0, False, "A small, distinct piece of work."),
    "Sub-task": ("10003", -1, True, "A small piece of work that's part of a larger task."),
    "Bug": ("10004", 0, False, "A problem or error."),
    "Defect": ("10005", 0, False, "A deviation from the specification found in testing."),
    "New Feature": ("10006", 0, False, "A new feature of the product."),
    "Enhancement": ("10007", 0, False, "An improvement of an existing feature."),
    "Technical Task": ("10008", -1, True, "A technical sub-task of a story."),
    "Spike": ("10009", 0, False, "A time-boxed investigation."),
    "Research": ("10010", 0, False, "User or market research."),
    "Incident": ("10011", 0, False, "An unplanned interruption of a service."),
    "Production Issue": ("10012", 0, False, "A problem seen in production."),
    # Matches none of the usual type keywords: it must land in the `other` category.
    "Kaizen": ("10013", 0, False, "A continuous-improvement idea."),
    "Service Request": ("10014", 0, False, "A request from a customer."),
}

PRIORITIES = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
RESOLUTIONS = [
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ("10003", "Cannot Reproduce", "All attempts at reproducing this issue failed."),
]
DEFAULT_PRIORITY_NAME = "Medium"
# The options of the Severity select field (customfield_10060), as issues carry them.
SEVERITIES = (
    {"value": "Sev 1", "id": "10100"},
    {"value": "Sev 2", "id": "10101"},
    {"value": "Sev 3", "id": "10102"},
)


def standard_statuses() -> dict[str, Status]:
    return {
        sid: Status(sid, name, cat, STATUS_DESCRIPTIONS.get(name, ""))
        for name, (sid, cat) in STANDARD_STATUSES.items()
    }


def standard_issue_types() -> dict[str, IssueType]:
    return {
        tid: IssueType(tid, name, desc, subtask=sub, hierarchy_level=level)
        for name, (tid, level, sub, desc) in STANDARD_ISSUE_TYPES.items()
    }


def priorities() -> dict[str, Priority]:
    return {pid: Priority(pid, name) for pid, name in PRIORITIES}


def resolutions() -> dict[str, Resolution]:
    return {rid: Resolution(rid, name, desc) for rid, name, desc in RESOLUTIONS}


@dataclass(frozen=True)
class WorkflowPlan:
    """A workflow plus the status paths issues typically take through it (weights sum to ~1)."""

    name: str
    statuses: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]  # (from, to); "*" as from = reachable from any status
    paths: tuple[tuple[float, tuple[str, ...]], ...]


_SOFTWARE_FLOW = ("Backlog", "Selected for Development", "In Progress", "In Review", "QA", "Done")

WORKFLOW_PLANS: dict[str, WorkflowPlan] = {
    "software": WorkflowPlan(
        name="Software Development Workflow",
        statuses=(*_SOFTWARE_FLOW, "Won't Do", "Reopened"),
        edges=(
            ("Backlog", "Selected for Development"),
            ("Selected for Development", "In Progress"),
            ("Selected for Development", "Backlog"),
            ("In Progress", "In Review"),
            ("In Review", "In Progress"),
            ("In Review", "QA"),
            ("QA", "In Progress"),
            ("QA", "Done"),
            ("Done", "Reopened"),
            ("Reopened", "In Progress"),
            ("*", "Won't Do"),
        ),
        paths=(
            (0.18, ("Backlog",)),
            (0.07, _SOFTWARE_FLOW[:2]),
            (0.10, _SOFTWARE_FLOW[:3]),
            (0.05, _SOFTWARE_FLOW[:4]),
            (0.04, _SOFTWARE_FLOW[:5]),
            (0.34, _SOFTWARE_FLOW),
            (0.07, (*_SOFTWARE_FLOW[:4], "In Progress", "In Review", "QA", "Done")),
            (0.05, ("Backlog", "Won't Do")),
            (0.07, (*_SOFTWARE_FLOW, "Reopened", "In Progress", "In Review", "QA", "Done")),
            (0.03, (*_SOFTWARE_FLOW, "Reopened", "In Progress")),
        ),
    ),
    "simple": WorkflowPlan(
        name="Simplified Workflow",
        statuses=("To Do", "In Progress", "Done"),
        edges=(("*", "To Do"), ("*", "In Progress"), ("*", "Done")),
        paths=(
            (0.25, ("To Do",)),
            (0.15, ("To Do", "In Progress")),
            (0.35, ("To Do", "In Progress", "Done")),
            (0.15, ("To Do", "Done")),  # straight from To Do to Done
            (0.10, ("To Do", "In Progress", "Done", "In Progress", "Done")),
        ),
    ),
    "operations": WorkflowPlan(
        name="Operations Workflow",
        statuses=("Backlog", "In Progress", "Closed", "Won't Do", "Reopened"),
        edges=(
            ("Backlog", "In Progress"),
            ("In Progress", "Closed"),
            ("Backlog", "Closed"),
            ("Closed", "Reopened"),
            ("Reopened", "In Progress"),
            ("*", "Won't Do"),
        ),
        paths=(
            (0.2, ("Backlog",)),
            (0.15, ("Backlog", "In Progress")),
            (0.4, ("Backlog", "In Progress", "Closed")),
            (0.1, ("Backlog", "Closed")),
            (0.05, ("Backlog", "Won't Do")),
            (0.1, ("Backlog", "In Progress", "Closed", "Reopened", "In Progress", "Closed")),
        ),
    ),
    "service_desk": WorkflowPlan(
        name="Service Management Workflow",
        statuses=("To Do", "In Progress", "Waiting for Customer", "Closed", "Won't Do"),
        edges=(
            ("To Do", "In Progress"),
            ("In Progress", "Waiting for Customer"),
            ("Waiting for Customer", "In Progress"),
            ("In Progress", "Closed"),
            ("Waiting for Customer", "Closed"),
            ("*", "Won't Do"),
        ),
        paths=(
            (0.2, ("To Do",)),
            (0.15, ("To Do", "In Progress")),
            (0.1, ("To Do", "In Progress", "Waiting for Customer")),
            (0.35, ("To Do", "In Progress", "Closed")),
            (0.15, ("To Do", "In Progress", "Waiting for Customer", "In Progress", "Closed")),
            (0.05, ("To Do", "Won't Do")),
        ),
    ),
}


def build_workflow(workflow_id: str, plan: WorkflowPlan, status_ids: dict[str, str]) -> Workflow:
    """A model workflow from a plan; `status_ids` maps the plan's status names to this site's ids."""
    transitions: list[Transition] = []
    for index, (source, target) in enumerate(plan.edges, start=1):
        sources = [] if source == "*" else [status_ids[source]]
        transitions.append(Transition(str(index * 10 + 1), target, status_ids[target], sources))
    return Workflow(
        id=workflow_id,
        name=plan.name,
        status_ids=[status_ids[name] for name in plan.statuses],
        transitions=transitions,
        description=f"{plan.name} of the simulated site.",
    )
