"""Jira's rate-limit headers in every form Atlassian documents (examples from its rate-limiting page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from requests.structures import CaseInsensitiveDict

from pipelines.jira.quota.headers import parse_instant, parse_rate_limit_headers, structured_entries


def parse(**headers: str):
    return parse_rate_limit_headers(CaseInsensitiveDict({k.replace("_", "-"): v for k, v in headers.items()}))


def test_a_normal_answer_names_the_pool_its_quota_window_and_seconds_to_reset() -> None:
    info = parse(
        **{"RateLimit-Policy": '"global-app-quota";q=65000;w=3600', "RateLimit": '"global-app-quota";t=3200'}
    )
    quota = info.quota
    assert quota is not None and quota.enforced
    assert (quota.name, quota.quota, quota.window_seconds, quota.reset_seconds) == (
        "global-app-quota",
        65000,
        3600,
        3200,
    )
    assert quota.remaining is None and info.quota_remaining is None  # well within the quota: no r


def test_near_the_limit_r_says_the_points_left() -> None:
    info = parse(
        **{
            "RateLimit-Policy": '"tenant-app-quota";q=100100;w=3600',
            "ratelimit": '"tenant-app-quota";r=17842;t=2107',
        }
    )
    assert info.quota_remaining == 17842 and info.quota.name == "tenant-app-quota"  # type: ignore[union-attr]


def test_several_policies_in_any_order_and_spacing() -> None:
    info = parse(
        **{
            "RateLimit-Policy": '"jira-burst-based";q=100;w=1, "global-app-quota";q=65000;w=3600',
            "RateLimit": '"global-app-quota";t=200,"jira-burst-based";r=90;t=1',
        }
    )
    assert info.quota.quota == 65000 and info.quota.reset_seconds == 200  # type: ignore[union-attr]
    burst = info.policies["jira-burst-based"]
    assert (burst.quota, burst.window_seconds, burst.remaining) == (100, 1, 90)


def test_beta_prefixed_quota_beside_an_enforced_burst_limit() -> None:
    info = parse(
        **{
            "RateLimit-Policy": '"jira-burst-based";q=100;w=1',
            "Beta-RateLimit-Policy": '"global-app-quota";q=65000;w=3600',
            "Beta-RateLimit": '"global-app-quota";r=0;t=50',
            "Beta-Retry-After": "50",
            "X-Beta-RateLimit-Reason": "jira-quota-global-based",
        }
    )
    assert info.quota is not None and not info.quota.enforced and info.quota_remaining == 0
    assert info.policies["jira-burst-based"].enforced
    assert not info.is_quota_refusal  # beta: informational, nothing was refused
    assert (info.beta_reason, info.beta_retry_after) == ("jira-quota-global-based", 50)


def test_atlassians_quota_429() -> None:
    info = parse(
        Retry_After="1847",
        X_RateLimit_Limit="100000",
        X_RateLimit_Remaining="0",
        X_RateLimit_Reset="2025-10-08T15:00:00Z",
        RateLimit_Reason="jira-quota-global-based",
    )
    assert info.is_quota_refusal and info.wait_seconds() == 1847
    assert info.reset_at == datetime(2025, 10, 8, 15, tzinfo=UTC)


def test_without_retry_after_the_wait_comes_from_t_or_the_reset_instant() -> None:
    refused = parse(
        **{
            "RateLimit-Reason": "jira-quota-tenant-based",
            "RateLimit": '"tenant-app-quota";r=0;t=75',
            "RateLimit-Policy": '"tenant-app-quota";q=65000;w=3600',
        }
    )
    assert refused.wait_seconds() == 75
    now = datetime(2026, 3, 26, 15, 59, tzinfo=UTC)
    gateway = parse(
        X_RateLimit_Limit="360000", X_RateLimit_Remaining="0", X_RateLimit_Reset="2026-03-26T16:00Z"
    )
    assert gateway.wait_seconds(now) == 60  # a reset written without seconds, as Jira sometimes does


def test_x_ratelimit_remaining_counts_as_quota_only_when_its_limit_is_the_quotas() -> None:
    quota = parse(
        **{
            "RateLimit-Policy": '"global-app-quota";q=40;w=3600',
            "X-RateLimit-Limit": "40",
            "X-RateLimit-Remaining": "38",
        }
    )
    burst = parse(
        **{
            "RateLimit-Policy": '"global-app-quota";q=40;w=3600',
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "99",
        }
    )
    assert quota.quota_remaining == 38 and burst.quota_remaining is None


def test_retry_after_as_an_http_date_and_unreadable_values() -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    info = parse(Retry_After=format_datetime(later, usegmt=True))
    assert 100 < (info.retry_after or 0) <= 120
    junk = parse(Retry_After="soon", X_RateLimit_Remaining="-3", RateLimit='"global-app-quota";r=x;t=')
    assert junk.retry_after is None and junk.remaining is None and junk.quota.remaining is None  # type: ignore[union-attr]
    assert structured_entries('garbage, "ok";q=1') == {"ok": {"q": "1"}}
    assert parse_instant("nope") is None and parse_instant("1767225600") == datetime(2026, 1, 1, tzinfo=UTC)
