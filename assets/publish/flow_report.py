"""The flow report asset: rebuilt from the analyst snapshot after every publish.

It reads the published file read-only (not the warehouse), or on PostgreSQL the published
schemas, so it takes no warehouse pool slot and a run holding the warehouse never waits for it.
"""

from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from assets.automation import FOLLOWS_UPSTREAM
from assets.core.common import PUBLISH_GROUP
from assets.publish.report import IMAGES_DIR, build_report
from assets.publish.snapshot import SNAPSHOT_KEY, read_published
from assets.resources import SyncConfigResource, WarehouseResource

REPORT_KEY = dg.AssetKey(["publish", "flow_report"])


@dg.asset(
    key=REPORT_KEY,
    group_name=PUBLISH_GROUP,
    kinds={"duckdb", "html"},
    deps=[SNAPSHOT_KEY],
    automation_condition=FOLLOWS_UPSTREAM,  # after every publish, like the snapshot after the transforms
    description=(
        "The flow report (report.path of the sync file): one self-contained HTML page that opens from "
        "disk with no network — cumulative flow, throughput and arrivals per week, cycle-time scatter "
        "with p50/p85, aging WIP, bug and incident share, lead and cycle time per team; filters by "
        "site, project and team; the data's time on every chart — and a PNG and an SVG of each chart. "
        "Built from the analyst snapshot after every publish; metadata: the headline figures."
    ),
)
def flow_report(
    context: AssetExecutionContext, sync_config: SyncConfigResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    config = sync_config.load()
    with read_published(warehouse, Path(config.warehouse.publish_path)) as con:
        report = build_report(
            con, Path(config.report.path), weeks=config.report.weeks, months=config.report.months
        )
    context.log.info(f"flow report: {report.page} ({len(report.charts)} charts) in {report.seconds:.1f} s")
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.url(report.page.resolve().as_uri()),
            "path": dg.MetadataValue.path(str(report.page)),
            "images": dg.MetadataValue.path(str(report.page.parent / IMAGES_DIR)),
            "data_as_of": dg.MetadataValue.timestamp(report.data.as_of),
            "charts": len(report.charts),
            "bytes": report.bytes,
            "seconds": round(report.seconds, 2),
            **report.data.headline,
        }
    )
