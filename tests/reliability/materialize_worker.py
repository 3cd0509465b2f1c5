"""One Dagster run of some assets in a process of its own, reporting its step timeline as JSON.

    python -m tests.reliability.materialize_worker {instance|ephemeral} KEY [KEY ...]

`instance`: the Dagster instance of `DAGSTER_HOME` (the repo's dagster.yaml: sqlite storage,
pools), as the main job, `dagster asset materialize` and the daemon's runs use it. `ephemeral`:
an in-memory instance, as `dagster.materialize` in tests uses it. The definitions come from
`JIRA_SYNC_CONFIG`, the secrets from the environment. Prints one JSON line: run id, success, the
first step's start and end (epoch seconds), how often it reported waiting for a pool slot, and
the failure message.
"""

from __future__ import annotations

import json
import sys
import warnings


def main(mode: str, keys: list[str]) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster's beta/preview notices
        import dagster as dg

        from assets.definitions import build_definitions
        from assets.resources import load_definitions_config
        from jira_sync.main_job import QUIET

        defs = build_definitions(load_definitions_config())
        instance = dg.DagsterInstance.get() if mode == "instance" else dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            list(defs.assets),
            resources=defs.resources,
            selection=[dg.AssetKey.from_user_string(key) for key in keys],
            instance=instance,
            run_config=QUIET,
            raise_on_error=False,
        )
        timeline: dict[str, float] = {}
        blocked = 0
        for record in instance.all_logs(result.run_id):
            event = record.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                timeline.setdefault("step_start", record.timestamp)
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                timeline["step_end"] = record.timestamp
            elif event.event_type_value == "ENGINE_EVENT" and "blocked by limit for pool" in (
                event.message or ""
            ):
                blocked += 1
        failure = "\n".join(
            e.step_failure_data.error.to_string() for e in result.all_events if e.is_step_failure
        )
    print(
        json.dumps(
            {
                "run_id": result.run_id,
                "success": result.success,
                "blocked": blocked,
                "failure": failure,
                **timeline,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
