"""Who may spend the pool now: reserve for priority work, fair shares, Jira's corrections."""

from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from pipelines.jira.quota.headers import parse_rate_limit_headers
from pipelines.jira.quota.policy import Request, decide, observed, rolled, spend
from pipelines.jira.quota.store import PoolRow, Usage

HOUR = 3600.0
T0 = 1_800_000_000.0  # a window from T0 to T0 + 3600


def row(**values: float) -> PoolRow:
    return PoolRow(pool="p", quota=1000, window_seconds=HOUR, window_end=T0 + HOUR, learned_at=T0, **values)  # type: ignore[arg-type]


def ask(pool: PoolRow, points: float, purpose: str, now: float, **kwargs):
    options = {"in_flight": 0.0, "usage": [], "waiting_backfills": set(), "reserve_share": 0.1, **kwargs}
    return decide(pool, Request(points, "acme", purpose), now, **options)


def headers(**values: str):
    return parse_rate_limit_headers(CaseInsensitiveDict({k.replace("_", "-"): v for k, v in values.items()}))


def test_priority_work_may_use_the_whole_pool() -> None:
    assert ask(row(used=899), 101, "sweep", T0).granted
    spent = ask(row(used=950), 101, "sweep", T0 + 10)
    assert not spent.granted and spent.kind == "spent" and spent.until == T0 + HOUR


def test_a_backfill_leaves_a_reserve_that_shrinks_to_nothing_by_the_windows_end() -> None:
    early = ask(row(used=850), 101, "backfill", T0)  # 951 > 1000 - 100
    assert not early.granted and early.kind == "reserve" and early.reserve == pytest.approx(100)
    # the ceiling 900 + 100 * elapsed share reaches 951 when 51 % of the window has passed
    assert early.until == pytest.approx(T0 + 0.51 * HOUR)
    assert ask(row(used=850), 101, "backfill", T0 + 0.52 * HOUR).granted
    assert ask(row(used=898), 101, "backfill", T0 + HOUR - 1).granted  # the last second: (nearly) all


def test_spent_points_are_the_larger_of_ours_and_jiras_plus_what_is_in_flight() -> None:
    assert not ask(row(used=100, server_used=950), 101, "sweep", T0).granted
    waiting = ask(row(used=500), 101, "sweep", T0, in_flight=450)
    assert not waiting.granted and waiting.kind == "in_flight" and waiting.until == T0


def test_a_quota_refusal_stops_every_purpose_until_the_reset() -> None:
    refused = ask(row(exhausted_until=T0 + 600), 1, "sweep", T0 + 10)
    assert not refused.granted and refused.kind == "exhausted" and refused.until == T0 + 600


def test_unmetered_pools_grant_everything() -> None:
    assert ask(row(used=5000, unmetered_until=T0 + 100), 101, "backfill", T0).granted


def test_the_least_served_waiting_tenant_goes_first() -> None:
    usage = [
        Usage("acme", "backfill", 400, 4),
        Usage("globex", "backfill", 100, 1),
        Usage("acme", "sweep", 50, 2),
    ]
    behind = ask(row(used=550), 101, "backfill", T0 + HOUR / 2, usage=usage, waiting_backfills={"globex"})
    assert not behind.granted and behind.kind == "fair_share" and behind.waiting_tenants == 2
    ahead = decide(
        row(used=550),
        Request(101, "globex", "backfill"),
        T0 + HOUR / 2,
        in_flight=0,
        usage=usage,
        waiting_backfills={"acme"},
        reserve_share=0.1,
    )
    assert ahead.granted
    # a tenant nobody waits for is not held back
    assert ask(row(used=550), 101, "backfill", T0 + HOUR / 2, usage=usage).granted


def test_jiras_headers_teach_the_quota_window_reset_and_spending() -> None:
    learned = observed(
        row(used=10).__class__(pool="p", quota=65000, window_seconds=HOUR, window_end=T0 + HOUR, used=10),
        headers(
            **{
                "RateLimit-Policy": '"global-app-quota";q=2000;w=60',
                "RateLimit": '"global-app-quota";r=300;t=42',
            }
        ),
        T0,
    )
    assert (learned.quota, learned.window_seconds, learned.window_end) == (2000, 60, T0 + 42)
    assert learned.server_used == 1700 and learned.learned_at == T0 and learned.used == 10


def test_a_reset_jira_already_passed_starts_a_fresh_window() -> None:
    ours = row(used=990, server_used=990)  # we think the window ends at T0 + 3600
    fresh = observed(
        ours,
        headers(
            **{
                "RateLimit-Policy": '"global-app-quota";q=1000;w=3600',
                "RateLimit": '"global-app-quota";t=3599',
            }
        ),
        T0 + HOUR - 5,
    )
    assert fresh.used == 0 and fresh.window_end == pytest.approx(T0 + 2 * HOUR - 6)


def test_a_quota_429_sets_the_refusal_deadline() -> None:
    refused = observed(
        row(used=10),
        headers(
            Retry_After="1847",
            RateLimit_Reason="jira-quota-global-based",
            RateLimit_Policy='"global-app-quota";q=1000;w=3600',
        ),
        T0,
    )
    assert refused.exhausted_until == T0 + 1847 and refused.server_used == 1000


def test_answers_without_quota_headers_mean_nothing_is_metered() -> None:
    assert observed(row(), headers(), T0, status=200).unmetered_until == T0 + HOUR
    assert observed(row(), headers(), T0, status=500).unmetered_until == 0
    relearned = observed(
        row(unmetered_until=T0 + HOUR),
        headers(RateLimit_Policy='"global-app-quota";q=10;w=3600'),
        T0,
        status=200,
    )
    assert relearned.unmetered_until == 0


def test_windows_roll_by_jiras_length_or_to_the_next_utc_hour() -> None:
    learned = PoolRow(pool="p", quota=10, window_seconds=60, window_end=T0, used=9, learned_at=T0 - 5)
    assert rolled(learned, T0 + 130) == PoolRow(
        pool="p", quota=10, window_seconds=60, window_end=T0 + 180, used=0, learned_at=T0 - 5
    )
    configured = PoolRow(pool="p", quota=10, window_seconds=HOUR, window_end=7200.0, used=9)
    assert rolled(configured, 7300.0).window_end == 10800.0
    assert rolled(learned, T0 - 1) is learned


def test_points_spent_in_a_windows_last_second_count_in_the_next_window_too() -> None:
    pool = PoolRow(pool="p", quota=10, window_seconds=60, window_end=T0, learned_at=T0 - 30)
    pool = spend(spend(pool, 3, T0 - 30), 4, T0 - 1)  # the 4 points may fall into Jira's next window
    assert (pool.used, pool.tail_used) == (7, 4)
    fresh = rolled(pool, T0 + 1)
    assert (fresh.used, fresh.tail_used, fresh.window_end) == (4, 0, T0 + 60)
    assert rolled(pool, T0 + 200).used == 0  # windows later: nothing carries
