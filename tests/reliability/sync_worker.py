"""The main job in a process of its own, so a scenario can SIGKILL it mid-run.

    python -m tests.reliability.sync_worker

Reads what `jira-sync demo` hands its runs: `JIRA_SYNC_CONFIG` and the secrets in the
environment, `DAGSTER_HOME` (a directory with the repo's dagster.yaml; its relative paths resolve
from the working directory). Like the demo, it first fails the runs of dead processes and frees
their pool slots, then runs every step with `jira_sync.main_job.run_steps`. Exit code 0 when
every step succeeded.
"""

from __future__ import annotations

import sys
import warnings


def main() -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dagster's beta/preview notices
        import dagster as dg

        from assets.definitions import build_definitions
        from assets.resources import load_definitions_config
        from jira_sync.main_job import release_stale_pool_slots, run_steps

        config = load_definitions_config()
        config.check_environment()
        defs = build_definitions(config)
        instance = dg.DagsterInstance.get()
        for run_id in release_stale_pool_slots(instance):
            print(f"released the warehouse pool slot of the dead run {run_id}", flush=True)
        outcomes = run_steps(defs, instance, out=lambda line: print(line, flush=True))
    return 0 if outcomes and all(o.success for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
