"""Resources and runs for the webhook assets, as `assets/definitions.py` binds them, over a test stack."""

from __future__ import annotations

import dagster as dg

from assets.resources import JiraSecretsResource, SecretValue, SyncConfigResource, WarehouseResource
from tests.check_text import assert_evaluation_is_honest


def resources(stack) -> dict[str, object]:
    """The shared resources of the definitions, with the secrets given as values (not EnvVars)."""
    return {
        "sync_config": SyncConfigResource(path=str(stack.sync_file)),
        "warehouse": WarehouseResource(path=str(stack.warehouse)),
        "jira_secrets": JiraSecretsResource(
            secrets=[SecretValue(env=name, value=value) for name, value in stack.environ.items()]
        ),
    }


def check_result(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    [evaluation] = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    assert_evaluation_is_honest(evaluation)
    return evaluation


def run_request(
    assets_defs, request: dg.RunRequest, stack, instance, other_resources: dict | None = None
) -> dg.ExecuteInProcessResult:
    """Execute what a sensor asked for, as the daemon would (its selection, config, tags, run key)."""
    return dg.materialize(
        assets_defs,
        selection=request.asset_selection,
        run_config=request.run_config,
        resources={**(other_resources or {}), **resources(stack)},
        instance=instance,
        tags={**request.tags, "dagster/run_key": request.run_key},
        raise_on_error=False,
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    """The error message of the run's failed step ("" when it succeeded), for assertion messages."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error, lines = event.step_failure_data.error, []
            while error is not None:  # the user code's error is the innermost cause
                lines.append(f"{error.message.strip()}\n{''.join(error.stack[-4:])}")
                error = error.cause
            return "\n".join(lines[-2:]) or "step failed"
    return ""


# What a site's first import materializes before webhooks are drained into it.
INITIAL_IMPORT = [
    "jira_raw/sites",
    "jira_raw/projects",
    "jira_raw/issue_types",
    "jira_raw/statuses",
    "jira_raw/status_categories",
    "jira_raw/issue_updates",
    "jira/issue_type_categories",
    "jira/status_states",
    "jira/issues",
]


# What the automation runs after a drain, as far as jira.issues (tests/assets/test_automation.py
# shows it requests these and more).
TRANSFORMS_AFTER_DRAIN = [
    dg.AssetKey(["jira", t]) for t in ("issue_type_categories", "status_states", "issues")
]


def drain_metadata(result: dg.ExecuteInProcessResult, table: str) -> dict[str, object]:
    """The values of the drain run's materialization of `jira_raw/<table>`."""
    [materialization] = [
        m
        for m in result.asset_materializations_for_node("webhook_ingest")
        if m.asset_key == dg.AssetKey(["jira_raw", table])
    ]
    return {name: entry.value for name, entry in materialization.metadata.items()}


def materialized(defs: dg.Definitions, stack, instance: dg.DagsterInstance, selection) -> None:
    """`selection` of the definitions' assets, materialized into the stack's warehouse; it must succeed."""
    result = dg.materialize(
        list(defs.assets),
        selection=selection,
        resources={**defs.resources, **resources(stack)},
        instance=instance,
    )
    assert result.success, failure(result)


def initial_import(defs: dg.Definitions, stack, instance: dg.DagsterInstance) -> None:
    """The assets of INITIAL_IMPORT, materialized into the stack's warehouse; it must succeed."""
    materialized(
        defs,
        stack,
        instance,
        dg.AssetSelection.from_string(" or ".join(f'key:"{k}"' for k in INITIAL_IMPORT)),
    )


def drain(defs: dg.Definitions, stack, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """One tick of the inbox sensor and the ingest run it asks for, as the daemon would, then the
    transforms that follow it; each must succeed."""
    from assets.webhooks.inbox_sensor import webhook_inbox_sensor

    with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources(stack)) as context:
        [request] = webhook_inbox_sensor.evaluate_tick(context).run_requests
    result = run_request(list(defs.assets), request, stack, instance, defs.resources)
    assert result.success, failure(result)
    transforms_after_drain(defs, stack, instance)
    return result


def transforms_after_drain(defs: dg.Definitions, stack, instance: dg.DagsterInstance) -> None:
    """The jira assets a drain's automation run materializes (TRANSFORMS_AFTER_DRAIN); must succeed."""
    materialized(defs, stack, instance, TRANSFORMS_AFTER_DRAIN)
