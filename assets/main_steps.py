"""The main job (`make run`, `jira-sync demo`) as the definitions' own jobs, one per step.

Every asset in a sensible order: reference data and teams, the issues backfill over all months as
one range run (the built-in `issues_backfill` job), the incremental sweep, the census, then
everything else (transforms, webhooks, publish). Being jobs of the code location, the steps' runs
carry their names in the UI, link to their job, can be re-executed there, and the UI can launch
the very same work (`benchmarks/ui_vs_make_run.py` measures both paths).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from assets.automation import STEP_TAG

ISSUES_BACKFILL_JOB = "issues_backfill"


@dataclass(frozen=True)
class MainStep:
    title: str
    job_name: str
    keys: tuple[dg.AssetKey, ...]


def _raw(*tables: str) -> set[dg.AssetKey]:
    return {dg.AssetKey(["jira_raw", t]) for t in tables}


def main_steps(graph) -> list[MainStep]:
    """The steps over the materializable assets of `graph` (steps with nothing to do are left out)."""
    todo = {node.key for node in graph.asset_nodes if node.is_materializable}

    def take(keys: set[dg.AssetKey]) -> tuple[dg.AssetKey, ...]:
        chosen = tuple(sorted(keys & todo, key=lambda k: k.to_user_string()))
        todo.difference_update(chosen)
        return chosen

    reference = set(dg.AssetSelection.tag("jira_sync/kind", "reference").resolve(graph))
    steps = [
        MainStep("reference data and teams", "main_reference_data_and_teams", take(reference)),
        MainStep("issues backfill", ISSUES_BACKFILL_JOB, take(_raw("issues", "issue_changelog"))),
        MainStep(
            "incremental sweep and worklogs",
            "main_incremental_sweep_and_worklogs",
            take(_raw("issue_updates", "worklogs")),
        ),
        MainStep("issue census", "main_issue_census", take(_raw("issue_deletions", "project_access"))),
    ]
    steps.append(
        MainStep("transforms, webhooks and publish", "main_transforms_webhooks_and_publish", take(todo))
    )
    return [step for step in steps if step.keys]


def main_step_jobs(graph) -> list[dg.UnresolvedAssetJobDefinition]:
    """One asset job per step (the backfill step is the built-in `issues_backfill` job)."""
    steps = main_steps(graph)
    return [
        dg.define_asset_job(
            step.job_name,
            selection=dg.AssetSelection.assets(*step.keys),
            description=(
                f"Step {number} of {len(steps)} of the main job (`make run`): {step.title}. Launch the "
                "steps in this order to load everything once; afterwards schedules and automation keep it current."
            ),
            tags={STEP_TAG: step.title},
        )
        for number, step in enumerate(steps, 1)
        if step.job_name != ISSUES_BACKFILL_JOB
    ]
