"""The flow report: charts analysts would rather look at than query, built from the published
tables — one self-contained HTML page with filters (site, project, team) and PNG/SVG images.

Why Vega-Lite through Altair and vl-convert (docs/analytics.md, "The flow report"): Altair builds
the charts as declarative Vega-Lite specs validated against its schema; vl-convert, from the same
project, renders them to PNG and SVG without a browser and bundles Vega's JavaScript into the page,
so the page needs no network and the images no Chromium. Both are maintained by the Vega team.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assets.publish.report.charts import Chart, build_charts
from assets.publish.report.data import ReportData, read_report_data
from assets.publish.report.images import render_images
from assets.publish.report.page import render_page

PAGE_NAME = "flow_report.html"
IMAGES_DIR = "images"
CACHE_DIR = ".cache"  # the Vega script bundle, made once per vl-convert and Vega-Lite version


@dataclass
class Report:
    page: Path
    images: list[Path]
    data: ReportData
    charts: list[Chart]
    seconds: float

    @property
    def bytes(self) -> int:
        return self.page.stat().st_size + sum(p.stat().st_size for p in self.images)


def _write_atomically(path: Path, content: bytes) -> None:
    """Readers (a browser refreshing the page) see the old file or the new one, never half of one."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.building")
    staging.write_bytes(content)
    os.replace(staging, path)


def build_report(con: Any, folder: Path, *, weeks: int, months: int, images: bool = True) -> Report:
    """Read the published tables through `con` and write the page (and images) into `folder`."""
    started = time.monotonic()
    folder = Path(folder)
    data = read_report_data(con, weeks=weeks, months=months)
    charts = build_charts(data)
    generated_at = datetime.now(UTC)
    written: list[Path] = []
    if images:
        stamp = f"Data as of {data.as_of:%Y-%m-%d %H:%M} UTC · all sites, projects and teams · jira-sync"
        (folder / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
        for chart in charts:
            png, svg = render_images(chart, data, stamp)
            for suffix, content in ((".png", png), (".svg", svg.encode("utf-8"))):
                path = folder / IMAGES_DIR / f"{chart.id}{suffix}"
                _write_atomically(path, content)
                written.append(path)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / PAGE_NAME
    html = render_page(data, charts, generated_at, cache_folder=folder / CACHE_DIR)
    _write_atomically(page, html.encode("utf-8"))
    return Report(page=page, images=written, data=data, charts=charts, seconds=time.monotonic() - started)
