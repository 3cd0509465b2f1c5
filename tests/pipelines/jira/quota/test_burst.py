"""After a burst 429 only that endpoint slows down; the others go on."""

from __future__ import annotations

import logging
import threading

from requests.structures import CaseInsensitiveDict

from pipelines.jira.quota.burst import EndpointPacer, endpoint_key
from pipelines.jira.quota.headers import parse_rate_limit_headers


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def refusal(**headers: str):
    return parse_rate_limit_headers(CaseInsensitiveDict({"RateLimit-Reason": "jira-burst-based", **headers}))


def test_endpoints_are_templates_per_host_and_method() -> None:
    a = endpoint_key("GET", "https://x.atlassian.net/rest/api/3/issue/ABC-12?fields=id")
    b = endpoint_key("GET", "https://x.atlassian.net/rest/api/3/issue/10042")
    assert (
        a == b == ("x.atlassian.net", "/rest/api/{}/issue/{}", "GET")
    )  # Atlassian: /api/{version}/issue/{id}
    assert endpoint_key("POST", "https://x.atlassian.net/rest/api/3/issue/10042") != a


def test_a_refused_endpoint_pauses_then_keeps_to_the_buckets_rate(caplog) -> None:
    time_ = FakeTime()
    pacer = EndpointPacer(clock=time_.clock, sleep=time_.sleep)
    search = endpoint_key("POST", "https://x/rest/api/3/search/jql")
    other = endpoint_key("GET", "https://x/rest/api/3/myself")
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        pacer.refused(
            search, refusal(**{"Retry-After": "2", "RateLimit-Policy": '"jira-burst-based";q=10;w=1'})
        )
    assert (
        "POST /rest/api/{}/search/jql on x waits 2 s" in caplog.text
        and "other endpoints go on" in caplog.text
    )
    pacer.wait(other)
    assert time_.slept == []  # untouched
    pacer.wait(search)
    assert time_.slept == [2.0]
    pacer.wait(search)
    assert round(time_.slept[-1], 3) == round(1 / 9, 3)  # 90 % of the bucket's 10/s
    time_.now += 1
    for _ in range(300):
        pacer.succeeded(search)
    assert search not in pacer._paces  # eased back to full speed


def test_without_the_buckets_rate_the_pace_halves() -> None:
    time_ = FakeTime()
    pacer = EndpointPacer(clock=time_.clock, sleep=time_.sleep)
    key = endpoint_key("GET", "https://x/rest/api/3/users/search")
    pacer.refused(key, refusal())  # no Retry-After: one second
    pacer.refused(key, refusal())
    assert pacer._paces[key].interval == 0.04 and pacer.refusals == 2


def test_a_pause_is_said_once_not_once_per_waiting_worker(caplog) -> None:
    pacer = EndpointPacer()  # the real clock: eight worker threads wait out one 2 s pause together
    search = endpoint_key("POST", "https://x/rest/api/3/search/jql")
    with caplog.at_level(logging.INFO, logger="pipelines.jira.quota"):
        pacer.refused(search, refusal(**{"Retry-After": "2"}))
        workers = [threading.Thread(target=pacer.wait, args=(search,)) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "waits 2 s, until" in lines[0] and " UTC: Jira answered 429" in lines[0], lines
