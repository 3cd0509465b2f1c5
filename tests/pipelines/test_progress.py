"""Progress lines: bounded in number, with totals, rate and time left, and facts for tools."""

from __future__ import annotations

import logging

import pytest

from pipelines.progress import Progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "pipelines.progress"]


def test_a_thousand_pages_give_a_line_every_interval_not_a_line_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.progress")
    clock = FakeClock()
    with Progress("issues of site acme", total=100_000, interval=5.0, clock=clock) as progress:
        for _ in range(1000):  # 100 issues a page, 0.06 s a page: 60 s in all
            clock.now += 0.06
            progress.add(100, changelog_items=450)
    lines = records(caplog)
    events = [r.jira_progress["event"] for r in lines]
    assert events[0] == "started" and events[-1] == "finished"
    assert 10 <= events.count("progress") <= 12  # every 5 s of 60, not 1,000
    assert "about 100,000 issues to fetch (Jira's approximate count)" in lines[0].getMessage()
    middle = lines[len(lines) // 2]
    facts = middle.jira_progress
    assert facts["total"] == 100_000 and 0 < facts["done"] < 100_000
    assert facts["rate_per_second"] == pytest.approx(100 / 0.06, rel=0.01)
    assert facts["seconds_left"] == pytest.approx(
        (100_000 - facts["done"]) / facts["rate_per_second"], rel=0.01
    )
    text = middle.getMessage()
    assert f"{facts['done']:,} of about 100,000 issues" in text
    assert "changelog items" in text and "issues/s" in text and "left (done near" in text and "UTC)" in text
    last = lines[-1]
    assert last.jira_progress["done"] == 100_000 and last.jira_progress["changelog_items"] == 450_000
    assert "finished: 100,000 issues, 450,000 changelog items in 60 s" in last.getMessage()


def test_without_a_total_there_is_no_share_and_no_time_left(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.progress")
    clock = FakeClock()
    with Progress("sweep of site acme", interval=1.0, clock=clock) as progress:
        clock.now += 2
        progress.add(40)
    lines = records(caplog)
    assert [r.jira_progress["event"] for r in lines] == ["started", "progress", "finished"]
    assert "40 issues; 20 issues/s" in lines[1].getMessage() and "left" not in lines[1].getMessage()


def test_a_failure_says_how_far_it_got(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pipelines.progress")
    clock = FakeClock()
    with pytest.raises(RuntimeError), Progress("census of site acme", unit="projects", total=4, estimated=False,
                                               clock=clock) as progress:  # fmt: skip
        progress.add(1)
        raise RuntimeError("boom")
    lines = records(caplog)
    assert "4 projects to go" in lines[0].getMessage()
    assert lines[-1].jira_progress["event"] == "failed"
    assert "census of site acme stopped after 1 projects" in lines[-1].getMessage()
