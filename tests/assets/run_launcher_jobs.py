"""Jobs the run launcher test launches (reconstructable: a forked worker imports this module)."""

import time

import dagster as dg


@dg.op
def answer() -> int:
    return 42


@dg.op(config_schema={"seconds": float})
def nap(context: dg.OpExecutionContext) -> None:
    time.sleep(context.op_config["seconds"])


@dg.job
def quick_job() -> None:
    answer()


@dg.job
def napping_job() -> None:
    nap()
