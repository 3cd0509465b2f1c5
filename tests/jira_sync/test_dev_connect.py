"""The connect flow under `jira-sync dev` (`make dev`), in headless Chromium: the receiver's connect page
-> the simulator's consent page -> Accept -> the receiver's callback page, which tells the truth about
the grant. (It used to answer 500 "Wrong callback URL" with a literal {APP_URL}: `make dev` handed
the receiver the demo's own loopback callback.)"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.auth.scopes import needed_scopes
from pipelines.auth.token_store import TokenStore
from pipelines.config import load_sync_config
from tests.chromium import headless_chromium
from tests.jira_sync.test_dev import REPO, _free_port

pytestmark = pytest.mark.browser
SCREENS = Path(os.environ.get("JIRA_SYNC_SCREENSHOTS", "/work/wt/screens"))


def test_connect_page_works_under_make_dev(tmp_path: Path) -> None:
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    log = tmp_path / "dev.log"
    ui_port, receiver_port = _free_port(), _free_port()
    demo_dir = tmp_path / "demo"
    with log.open("w") as out:
        dev = subprocess.Popen(
            [
                sys.executable, "-m", "jira_sync.cli", "dev", "--issues", "20",
                "--warehouse", str(tmp_path / "warehouse.duckdb"), "--demo-dir", str(demo_dir),
                "--port", str(ui_port), "--receiver-port", str(receiver_port),
            ],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not (match := re.search(r"connect page: (\S+)", log.read_text())):
            assert dev.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        connect_url = match.group(1)
        receiver = connect_url.split("/auth/")[0]
        with headless_chromium(tmp_path / "profile") as browser:
            browser.set_window_size(1100, 900)
            for _ in range(120):  # the receiver process may still be starting (connection refused)
                try:
                    browser.get(connect_url)
                except WebDriverException as refused:
                    if "ERR_CONNECTION_REFUSED" not in str(refused):
                        raise
                else:
                    if "127.0.0.1" in browser.current_url and "/authorize?" in browser.current_url:
                        break
                time.sleep(0.5)
            assert "/authorize?" in browser.current_url, browser.page_source[:2000]
            accept = WebDriverWait(browser, 20).until(
                expected_conditions.element_to_be_clickable((By.ID, "accept"))
            )
            accept.click()
            WebDriverWait(browser, 20).until(
                expected_conditions.presence_of_element_located((By.ID, "capabilities"))
            )
            assert browser.current_url.startswith(f"{receiver}/auth/jira/callback?")
            page = browser.find_element(By.TAG_NAME, "body").text
            assert "Connected tenant demo" in page and "{APP_URL}" not in page
            capabilities = browser.find_elements(By.CSS_SELECTOR, "#capabilities tr.capability")
            needed = {
                c.get_attribute("data-capability")
                for c in capabilities
                if c.get_attribute("data-needed") == "true"
            }
            allowed = {
                c.get_attribute("data-capability")
                for c in capabilities
                if c.get_attribute("data-allowed") == "true"
            }
            assert needed and needed <= allowed  # the grant can do everything the demo's sync needs
            SCREENS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENS / "i12-connect-under-make-dev.png"))
        saved = TokenStore(demo_dir / "tokens").token_set("demo")
        tenant = load_sync_config(demo_dir / "jira_sync.yaml", environ={}).tenants[0]
        assert saved is not None and set(saved.scopes) >= set(needed_scopes(tenant))
        assert "connect.completed" in log.read_text()
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGTERM)
            try:
                dev.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(dev.pid, signal.SIGKILL)
                dev.wait(timeout=10)
