"""The report page: one self-contained HTML file (Vega, Vega-Lite and vega-embed inlined, the data
as JSON, a little script for the filters), so it opens from disk with no network at all. A
Content-Security-Policy in the page forbids every fetch, so nothing can reach out by accident.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import cache
from html import escape
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

from assets.analytics.headline import HEADLINE_WEEKS
from assets.publish.report.charts import Chart
from assets.publish.report.data import ReportData
from pipelines.published_tables import NO_TEAM

WIDE_CHARTS = {"team_trend"}


def vega_lite_version() -> str:
    """The Vega-Lite release Altair writes specs for (e.g. 6.4), for vl-convert."""
    return ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


@cache
def javascript_bundle(cache_folder: Path | None = None) -> str:
    """Vega, Vega-Lite and vega-embed as one script. vl-convert bundles them in seconds, so the
    bundle is kept in `cache_folder` under the versions it was made from."""
    versions = f"{metadata.version('vl-convert-python')}-{vega_lite_version()}"
    cached = cache_folder / f"vega-bundle-{versions}.js" if cache_folder is not None else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle(vl_version=vega_lite_version()).replace("</script", "<\\/script")
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = cached.with_name(f".{cached.name}.{os.getpid()}")
        staging.write_text(bundle, encoding="utf-8")
        os.replace(staging, cached)
    return bundle


def _utc_text(moment: datetime | None) -> str:
    return "unknown" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _meta_html(data: ReportData, generated_at: datetime) -> str:
    parts = [f"Data as of <strong>{escape(_utc_text(data.as_of))}</strong> (when the transforms ran)"]
    if data.published_at is not None:
        run = f", run {escape(data.run_id[:8])}" if data.run_id else ""
        parts.append(f"snapshot published {escape(_utc_text(data.published_at))}{run}")
    parts.append(f"report generated {escape(_utc_text(generated_at))}")
    return " · ".join(parts)


FOOTER_HTML = f"""
<p><strong>How to read it.</strong> Days, weeks and months are UTC. A week is 7 days ending on the day
of the data (so the last one is whole). WIP: issues in an in-progress state. Cycle time: first
entry into an in-progress state to the last close; lead time: created to the last close; issues
closed without ever being in progress have no cycle time. Throughput: entries into a closed state.
The figures at the top are over the last {HEADLINE_WEEKS} weeks.</p>
<p><strong>Teams.</strong> An issue counts for the team of whoever was assigned when it was last
closed (or now, if open), else the project's default team from the sync file; issues with neither
are shown as <code>{escape(NO_TEAM)}</code>, never left out (see <code>analytics.issue_teams.team_rule</code>).</p>
<p><strong>Source.</strong> The analyst snapshot (<code>data/jira_analytics.duckdb</code>):
<code>jira-sync sql</code> opens it; every table and column is described in docs/analytics.md.
Each chart's menu (…) saves it as PNG or SVG.</p>
"""


def _json_for_script(value: Any) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/")


def render_page(
    data: ReportData, charts: list[Chart], generated_at: datetime, cache_folder: Path | None = None
) -> str:
    payload = {
        "as_of": data.as_of.isoformat(),
        "as_of_day": data.as_of_day.isoformat(),
        "as_of_text": _utc_text(data.as_of),
        "headline_weeks": HEADLINE_WEEKS,
        "meta_html": _meta_html(data, generated_at),
        "footer_html": FOOTER_HTML,
        "groups": [
            {"site": g.site, "project": g.project, "team_key": g.team_key, "team": g.team}
            for g in data.groups
        ],
        "datasets": data.datasets,
        "charts": [
            {
                "id": chart.id,
                "title": chart.title,
                "question": chart.question,
                "spec": chart.spec,
                "datasets": list(chart.datasets),
                "wide": chart.id in WIDE_CHARTS,
                "density": list(chart.density) if chart.density else None,
            }
            for chart in charts
        ],
    }
    template = files("assets.publish.report").joinpath("page.html").read_text(encoding="utf-8")
    return template.replace("/*VEGA_BUNDLE*/", javascript_bundle(cache_folder)).replace(
        "/*REPORT_DATA*/", _json_for_script(payload)
    )
