"""PNG and SVG images of the report's charts for sharing, rendered without a browser by
vl-convert (Vega in an embedded JavaScript engine), over all sites, projects and teams."""

from __future__ import annotations

import copy
from typing import Any

import vl_convert

from assets.publish.report.charts import Chart
from assets.publish.report.data import ReportData
from assets.publish.report.page import vega_lite_version

PNG_SCALE = 2  # sharp on high-density screens and in slides


def dataset_rows(data: ReportData, name: str) -> list[dict[str, Any]]:
    """Rows of one dataset with the group's site, project and team, as the page builds them."""
    columns = data.datasets[name]
    names = [column for column in columns if column != "g"]
    rows = []
    for i, g in enumerate(columns["g"]):
        group = data.groups[g]
        row: dict[str, Any] = {"site": group.site, "project": group.project, "team": group.team}
        row.update({column: columns[column][i] for column in names})
        rows.append(row)
    return rows


def full_spec(chart: Chart, data: ReportData, stamp: str) -> dict[str, Any]:
    """The chart's spec with every row of its datasets and the data's time under its title."""
    spec = copy.deepcopy(chart.spec)
    spec["datasets"] = {name: dataset_rows(data, name) for name in chart.datasets}
    title = spec.get("title", {})
    subtitle = title.get("subtitle", [])
    title["subtitle"] = [*([subtitle] if isinstance(subtitle, str) else subtitle), stamp]
    spec["title"] = title
    if chart.density is not None:
        name, since = chart.density
        shown = sum(1 for row in spec["datasets"][name] if since is None or row["closed"] >= since)
        for param in spec.get("params", []):
            if param["name"] == "points":
                param["value"] = shown
    return spec


def render_images(chart: Chart, data: ReportData, stamp: str) -> tuple[bytes, str]:
    """(PNG bytes, SVG text) of one chart: Vega runs once, the PNG is the SVG rasterised."""
    svg = vl_convert.vegalite_to_svg(full_spec(chart, data, stamp), vl_version=vega_lite_version())
    return vl_convert.svg_to_png(svg, scale=PNG_SCALE), svg
