"""The report's charts as Vega-Lite specs (built with Altair, validated against the schema).

Each chart reads named datasets (`states`, `weekly`, `closed`, `aging`, `created`), rows already
filtered to the slice on show and carrying `site`, `project` and `team`; the charts aggregate
themselves, so one spec serves every slice. Times are shown in UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import altair as alt

from assets.publish.report.data import STATES, ReportData
from pipelines.published_tables import NO_TEAM

WIDTH = 500
HEIGHT = 260
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
STATE_LABELS = {"closed": "Closed since {start}", "in_progress": "In progress", "open": "Open (not started)"}
STATE_COLOURS = {"closed": "#59a14f", "in_progress": "#f28e2b", "open": "#bab0ac"}
CATEGORY_COLOURS = {
    "feature": "#4e79a7",
    "bug": "#e15759",
    "incident": "#b6263b",
    "chore": "#9c9c9c",
    "discovery": "#b07aa1",
    "other": "#d4c8a8",
}
TEAM_PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#e15759",
    "#76b7b2",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
]
NO_TEAM_COLOUR = "#9a9a9a"
UTC_DAY = "%d %b %Y"


@dataclass(frozen=True)
class Chart:
    """One chart of the report: its id (file and element name), title, the question it answers."""

    id: str
    title: str
    question: str
    spec: dict
    datasets: tuple[str, ...]
    # (dataset, shown from epoch ms): the rows a scatter draws, which set its `points` parameter so
    # that dots get smaller and lighter as they get many (set by the page per slice, and for images)
    density: tuple[str, int | None] | None = None


LOG_TICKS = [0.01, 0.1, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
LOG_LABELS = "datum.value < 1 ? format(datum.value, '.2~f') : format(datum.value, ',~r')"


def _log_days(title: str) -> alt.Y:
    return alt.Y(
        "days_shown:Q",
        title=title,
        scale=alt.Scale(type="log"),
        axis=alt.Axis(values=LOG_TICKS, labelExpr=LOG_LABELS),
    )


def _percentile_lines(quantiles: alt.Chart, what: str) -> list[alt.Chart]:
    """Dashed rules at the 50th and 85th percentile, labelled at the right on a white halo."""
    labelled = quantiles.transform_calculate(
        label=f"(datum.prob === 0.5 ? 'p50 ' : 'p85 ') + '{what}' + format(datum.days, '.1f') + ' days'"
    )
    rule = labelled.mark_rule(strokeDash=[6, 4], strokeWidth=1.6, color="#222222").encode(y="days:Q")
    text = {"align": "right", "dx": -4, "dy": -7, "fontSize": 11, "fontWeight": "bold"}
    halo = labelled.mark_text(
        **text, stroke="#ffffff", strokeWidth=4, strokeJoin="round", opacity=0.9
    ).encode(x=alt.value(WIDTH), y="days:Q", text="label:N")
    label = labelled.mark_text(**text, color="#222222").encode(x=alt.value(WIDTH), y="days:Q", text="label:N")
    return [rule, halo, label]


POINTS = alt.param(name="points", value=400)
DOT_SIZE = alt.ExprRef("max(7, 38 * sqrt(400 / max(400, points)))")
DOT_OPACITY = alt.ExprRef("max(0.25, 0.75 * sqrt(400 / max(400, points)))")


def _ms(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)


def _title(text: str, subtitle: str) -> alt.TitleParams:
    return alt.TitleParams(text=text, subtitle=subtitle, anchor="start", fontSize=15, subtitleFontSize=12)


def _frame(text: str, subtitle: str) -> dict:
    """A chart's size and its title: every chart of the report has the same frame."""
    return {"width": WIDTH, "height": HEIGHT, "title": _title(text, subtitle)}


def _category_scale() -> alt.Scale:
    return alt.Scale(domain=list(CATEGORY_COLOURS), range=list(CATEGORY_COLOURS.values()))


def team_scale(data: ReportData) -> alt.Scale:
    """One colour per team, the same in every chart and slice; '(no team)' is grey."""
    teams = sorted({g.team for g in data.groups if g.team != NO_TEAM})
    colours = [TEAM_PALETTE[i % len(TEAM_PALETTE)] for i in range(len(teams))]
    if any(g.team == NO_TEAM for g in data.groups):
        teams, colours = [*teams, NO_TEAM], [*colours, NO_TEAM_COLOUR]
    return alt.Scale(domain=teams, range=colours)


def cumulative_flow(data: ReportData, start: date) -> alt.Chart:
    labels = [STATE_LABELS[s].format(start=f"{start:%d %b}") for s in STATES]
    return (
        alt.Chart(alt.Data(name="states"))
        .transform_aggregate(issues="sum(issues)", groupby=["day", "state"])
        .transform_impute(impute="issues", key="day", groupby=["state"], value=0)
        .transform_calculate(label=f"{labels}[datum.state]")
        .mark_area(interpolate="step-after", opacity=0.9, line={"strokeWidth": 0.6, "color": "#ffffff"})
        .encode(
            x=alt.X(
                "day:T", title=None, scale=alt.Scale(type="utc"), axis=alt.Axis(format="%d %b", labelAngle=0)
            ),
            y=alt.Y("issues:Q", stack="zero", title="Issues"),
            color=alt.Color(
                "label:N",
                title=None,
                scale=alt.Scale(domain=labels, range=[STATE_COLOURS[s] for s in STATES]),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            order=alt.Order("state:Q", sort="ascending"),
            tooltip=[
                alt.Tooltip("day:T", title="Day", timeUnit="utcyearmonthdate", format=UTC_DAY),
                alt.Tooltip("label:N", title="State"),
                alt.Tooltip("issues:Q", title="Issues"),
            ],
        )
        .properties(
            **_frame(
                "Cumulative flow",
                f"Issues per state at the end of each day since {start:%d %b %Y}",
            ),
        )
    )


def throughput(data: ReportData, start: date) -> alt.LayerChart:
    base = alt.Chart(alt.Data(name="weekly")).transform_aggregate(
        arrivals="sum(arrivals)", throughput="sum(throughput)", groupby=["week_end"]
    )
    bars = (
        base.transform_fold(["arrivals", "throughput"], as_=["measure", "issues"])
        .transform_calculate(
            measure_label="datum.measure === 'arrivals' ? 'Arrived (created)' : 'Finished (closed)'"
        )
        .mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        .encode(
            x=alt.X(
                "week_end:O",
                title="Week ending",
                timeUnit="utcyearmonthdate",
                axis=alt.Axis(format="%d %b", labelAngle=-45, labelOverlap=True),
            ),
            xOffset=alt.XOffset("measure_label:N", sort=["Arrived (created)", "Finished (closed)"]),
            y=alt.Y("issues:Q", title="Issues per week"),
            color=alt.Color(
                "measure_label:N",
                title=None,
                scale=alt.Scale(
                    domain=["Arrived (created)", "Finished (closed)"], range=["#a0cbe8", "#2f6690"]
                ),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            tooltip=[
                alt.Tooltip("week_end:T", title="Week ending", timeUnit="utcyearmonthdate", format=UTC_DAY),
                alt.Tooltip("measure_label:N", title="What"),
                alt.Tooltip("issues:Q", title="Issues"),
            ],
        )
    )
    average = (
        base.transform_aggregate(mean="mean(throughput)")
        .mark_rule(color="#2f6690", strokeDash=[5, 4], strokeWidth=1.5)
        .encode(y="mean:Q", tooltip=[alt.Tooltip("mean:Q", title="Mean finished per week", format=".1f")])
    )
    average_label = (
        base.transform_aggregate(mean="mean(throughput)")
        .transform_calculate(text="'mean ' + format(datum.mean, '.1f') + ' / week'")
        .mark_text(align="right", baseline="bottom", dx=-2, dy=-3, color="#2f6690", fontSize=11)
        .encode(x=alt.value(WIDTH), y="mean:Q", text="text:N")
    )
    return alt.layer(bars, average, average_label).properties(
        **_frame(
            "Throughput and arrivals per week",
            f"Issues created and closed per 7-day week since {start:%d %b %Y}; dashed: mean closed",
        ),
    )


def cycle_time_scatter(data: ReportData, start: date) -> alt.LayerChart:
    closed = (
        alt.Chart(alt.Data(name="closed"))
        .transform_filter(
            f"datum.closed >= {_ms(start)} && isValid(datum.cycle_days) && datum.cycle_days > 0"
        )
        .transform_calculate(days_shown="datum.cycle_days")
    )
    points = closed.mark_circle(size=DOT_SIZE, opacity=DOT_OPACITY).encode(
        x=alt.X(
            "closed:T",
            title="Closed",
            scale=alt.Scale(type="utc"),
            axis=alt.Axis(format="%d %b", labelAngle=0),
        ),
        y=_log_days("Cycle time (days, log scale)"),
        color=alt.Color(
            "category:N",
            title="Type",
            scale=_category_scale(),
            legend=alt.Legend(orient="right", symbolOpacity=1),
        ),
        tooltip=[
            alt.Tooltip("key:N", title="Issue"),
            alt.Tooltip("category:N", title="Type"),
            alt.Tooltip("team:N", title="Team"),
            alt.Tooltip(
                "closed:T",
                title="Closed",
                timeUnit="utcyearmonthdatehoursminutes",
                format="%d %b %Y %H:%M UTC",
            ),
            alt.Tooltip("cycle_days:Q", title="Cycle time (days)", format=".1f"),
        ],
    )
    quantiles = closed.transform_quantile("cycle_days", probs=[0.5, 0.85], as_=["prob", "days"])
    return (
        alt.layer(points, *_percentile_lines(quantiles, ""))
        .add_params(POINTS)
        .properties(
            **_frame(
                "Cycle time of finished work",
                f"Issues closed since {start:%d %b %Y}, first in progress -> closed; dashed: p50 and p85",
            ),
        )
    )


def aging_wip(data: ReportData) -> alt.LayerChart:
    points = (
        alt.Chart(alt.Data(name="aging"))
        .transform_calculate(jitter="random()", days_shown="max(datum.age_days, 0.01)")
        .mark_circle(size=DOT_SIZE, opacity=DOT_OPACITY)
        .encode(
            x=alt.X("status:N", title="Status now", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("jitter:Q", scale=alt.Scale(padding=8)),
            y=_log_days("Days since it started (log scale)"),
            color=alt.Color(
                "category:N",
                title="Type",
                scale=_category_scale(),
                legend=alt.Legend(orient="right", symbolOpacity=1),
            ),
            tooltip=[
                alt.Tooltip("key:N", title="Issue"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("team:N", title="Team"),
                alt.Tooltip("age_days:Q", title="Days since it started", format=".1f"),
            ],
        )
    )
    recent = _ms(data.as_of_day - timedelta(weeks=12))
    quantiles = (
        alt.Chart(alt.Data(name="closed"))
        .transform_filter(f"datum.closed >= {recent} && isValid(datum.cycle_days) && datum.cycle_days > 0")
        .transform_quantile("cycle_days", probs=[0.5, 0.85], as_=["prob", "days"])
    )
    return (
        alt.layer(points, *_percentile_lines(quantiles, "cycle time "))
        .add_params(POINTS)
        .resolve_scale(x="independent")
        .properties(
            **_frame(
                "Aging work in progress",
                "Issues in progress now: days since they started; dashed: p50 and p85 cycle time of the last 12 weeks",
            ),
        )
    )


def bug_share(data: ReportData, start: date) -> alt.Chart:
    shares = ["bug", "incident"]
    return (
        alt.Chart(alt.Data(name="created"))
        .transform_aggregate(created="sum(created)", groupby=["month", "category"])
        .transform_joinaggregate(total="sum(created)", groupby=["month"])
        .transform_calculate(share="datum.created / datum.total")
        .transform_filter(alt.FieldOneOfPredicate(field="category", oneOf=shares))
        .transform_impute(impute="share", key="month", groupby=["category"], value=0)
        .mark_line(point=True, strokeWidth=2)
        .encode(
            x=alt.X(
                "month:T",
                title=None,
                scale=alt.Scale(type="utc"),
                timeUnit="utcyearmonth",
                axis=alt.Axis(format="%b %Y", labelAngle=-45),
            ),
            y=alt.Y("share:Q", title="Share of issues created", axis=alt.Axis(format="%")),
            color=alt.Color(
                "category:N",
                title=None,
                scale=alt.Scale(domain=shares, range=[CATEGORY_COLOURS["bug"], CATEGORY_COLOURS["incident"]]),
                legend=alt.Legend(
                    orient="top",
                    direction="horizontal",
                    labelExpr="datum.label === 'bug' ? 'Bugs' : 'Incidents'",
                ),
            ),
            tooltip=[
                alt.Tooltip("month:T", title="Month", timeUnit="utcyearmonth", format="%B %Y"),
                alt.Tooltip("category:N", title="Type"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("created:Q", title="Created"),
                alt.Tooltip("total:Q", title="All created"),
            ],
        )
        .properties(
            **_frame(
                "Bug and incident share",
                f"Bugs and incidents as a share of the issues created each month, since {start:%b %Y}",
            ),
        )
    )


def team_trend(data: ReportData, start: date) -> alt.FacetChart:
    measures = ["Lead time", "Cycle time"]
    teams = team_scale(data).to_dict()["domain"]
    return (
        alt.Chart(alt.Data(name="closed"))
        .transform_filter(f"datum.closed >= {_ms(start)}")
        .transform_timeunit(quarter="utcyearquarter(closed)")
        .transform_fold(["lead_days", "cycle_days"], as_=["measure", "days"])
        .transform_filter("isValid(datum.days)")
        .transform_calculate(measure_label="datum.measure === 'lead_days' ? 'Lead time' : 'Cycle time'")
        .transform_aggregate(
            median="median(days)", issues="count()", groupby=["quarter", "team", "measure_label"]
        )
        .transform_calculate(team_order=f"indexof({json.dumps(teams)}, datum.team)")
        .mark_line(point=alt.OverlayMarkDef(size=28), strokeWidth=2)
        .encode(
            x=alt.X(
                "quarter:T",
                title=None,
                scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="Q%q %y", labelAngle=0, tickCount={"interval": "month", "step": 6}),
            ),
            y=alt.Y("median:Q", title="Median days"),
            color=alt.Color(
                "measure_label:N",
                title=None,
                scale=alt.Scale(domain=measures, range=["#9ecae9", "#2f6690"]),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            tooltip=[
                alt.Tooltip("team:N", title="Team"),
                alt.Tooltip("quarter:T", title="Quarter closed", timeUnit="utcyearquarter", format="Q%q %Y"),
                alt.Tooltip("measure_label:N", title="Clock"),
                alt.Tooltip("median:Q", title="Median (days)", format=".1f"),
                alt.Tooltip("issues:Q", title="Issues closed"),
            ],
        )
        .properties(width=235, height=120)
        .facet(
            facet=alt.Facet(
                "team:N",
                title=None,
                sort=alt.EncodingSortField("team_order", op="min"),
                header=alt.Header(
                    labelFontSize=12, labelFontWeight="bold", labelAnchor="start", labelPadding=4
                ),
            ),
            columns=4,
            spacing={"row": 18, "column": 24},
        )
        .properties(
            title=_title(
                "Lead and cycle time per team",
                f"Median per quarter of closing since {start:%b %Y} (lead: created -> closed; cycle: started -> closed)",
            )
        )
    )


def _config(chart):
    return (
        chart.configure(font=FONT, background="#ffffff")
        .configure_axis(
            labelFontSize=11,
            titleFontSize=12,
            gridColor="#ececec",
            domainColor="#888888",
            tickColor="#888888",
        )
        .configure_legend(labelFontSize=11, titleFontSize=12, symbolSize=90)
        .configure_view(stroke=None)
    )


def build_charts(data: ReportData) -> list[Chart]:
    today = data.as_of_day
    weeks_start = today - timedelta(days=7 * data.weeks - 1)
    months_index = today.year * 12 + today.month - 1 - (data.months - 1)
    months_start = date(months_index // 12, months_index % 12 + 1, 1)
    charts = [
        (
            "cumulative_flow",
            "Cumulative flow",
            "Is work piling up? Widening in-progress or open bands mean more starts than finishes.",
            cumulative_flow(data, weeks_start),
            ("states",),
        ),
        (
            "throughput",
            "Throughput and arrivals",
            "Do we finish as much as arrives, week by week?",
            throughput(data, weeks_start),
            ("weekly",),
        ),
        (
            "cycle_time",
            "Cycle-time scatter",
            "How long does an item take once started? 85% of recent items finished within the p85 line.",
            cycle_time_scatter(data, weeks_start),
            ("closed",),
            ("closed", _ms(weeks_start)),
        ),
        (
            "aging_wip",
            "Aging work in progress",
            "Which items in progress are older than usual and need attention (above the p85 line)?",
            aging_wip(data),
            ("aging", "closed"),
            ("aging", None),
        ),
        (
            "bug_share",
            "Bug and incident share",
            "Is quality getting better or worse: how much of the new work is fixing things?",
            bug_share(data, months_start),
            ("created",),
        ),
        (
            "team_trend",
            "Lead and cycle time per team",
            "Is each team getting faster or slower? Issues without a team are shown as (no team).",
            team_trend(data, months_start),
            ("closed",),
        ),
    ]
    return [
        Chart(chart_id, title, question, _config(chart).to_dict(validate=True), datasets, *density)
        for chart_id, title, question, chart, datasets, *density in charts
    ]
