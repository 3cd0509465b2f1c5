"""The operator's connect flow in headless Chromium: receiver -> simulator consent page -> Accept ->
callback page listing both sites -> token file with mode 0600."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from jira_simulator.process import SimulatorProcess
from pipelines.auth.token_store import TokenStore
from tests.chromium import headless_chromium
from tests.webhook_receiver.receiver_servers import ReceiverProcess, write_sync_file

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    with headless_chromium(tmp_path / "chromium-profile") as driver:
        driver.set_page_load_timeout(30)
        yield driver


def test_connect_in_a_real_browser(tmp_path: Path, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with SimulatorProcess(issues=5, seed=11) as sim:
        receiver = ReceiverProcess(
            write_sync_file(tmp_path, sim), tmp_path / "inbox.sqlite", {}, tmp_path / "receiver.log"
        )
        receiver.env = {
            "JIRA_CLIENT_ID": sim.client_id,
            "JIRA_SECRET": sim.client_secret,
            "JIRA_REDIRECT_URI": f"{receiver.base_url}/auth/jira/callback",
        }
        with receiver:
            browser.get(f"{receiver.base_url}/auth/jira/connect?tenant=acme&admin=1")
            accept = WebDriverWait(browser, 20).until(
                expected_conditions.element_to_be_clickable((By.ID, "accept"))
            )
            assert browser.current_url.startswith(f"{sim.base_url}/authorize?")
            consent_sites = browser.find_elements(By.CSS_SELECTOR, "#sites input[type=checkbox]")
            assert len(consent_sites) == 2 and all(box.is_selected() for box in consent_sites)
            accept.click()
            # the consent page has a #sites list too: wait for the callback page itself
            WebDriverWait(browser, 20).until(
                expected_conditions.presence_of_element_located((By.ID, "capabilities"))
            )
            assert browser.current_url.startswith(f"{receiver.base_url}/auth/jira/callback?")
            assert "Connected tenant acme" in browser.find_element(By.TAG_NAME, "h1").text
            rows = browser.find_elements(By.CSS_SELECTOR, "#sites tr.site")
            assert {row.get_attribute("data-cloud-id") for row in rows} == set(sim.cloud_ids.values())
            page_text = browser.find_element(By.TAG_NAME, "body").text
            for name in sim.cloud_ids:
                assert sim.site_url(name) in page_text

    token_file = tmp_path / "tokens" / "acme.json"
    assert token_file.exists()
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert {site.id for site in TokenStore(tmp_path / "tokens").sites("acme")} == set(sim.cloud_ids.values())
    log = (tmp_path / "receiver.log").read_text()
    assert "connect.completed" in log
    assert sim.client_secret not in log
