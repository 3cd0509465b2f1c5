"""`jira-sync webhooks create|list|refresh|delete` against the simulator: output, exit codes, errors."""

from __future__ import annotations

import pytest

from jira_sync.webhooks_cli import main
from pipelines.inbox.registrations import WebhookRegistry
from tests.pipelines.webhooks.webhook_lifecycle_kit import make_stack, simulator


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with simulator() as sim:
        built = make_stack(
            sim, tmp_path_factory.mktemp("cli"), sites={"acme": {"webhook": {"enabled": True}}}
        )
        yield built
        built.delete_all_webhooks()


@pytest.fixture
def cli(stack, monkeypatch, capsys):
    for name, value in stack.environ.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--config", str(stack.sync_file)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _recorded(stack) -> frozenset[int]:
    registry = WebhookRegistry(stack.inbox)
    try:
        return registry.webhook_ids("acme", stack.sim.cloud_ids["acme"])
    finally:
        registry.close()


def test_lifecycle_from_the_command_line(stack, cli):
    code, out, _ = cli("create")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "TENANT",
        "SITE",
        "CLOUD",
        "ID",
        "MODE",
        "STATUS",
        "ACTION",
        "WEBHOOKS",
        "EXPIRES",
        "(UTC)",
        "DAYS",
        "LEFT",
    ]
    [webhook] = stack.list_webhooks("acme")
    row = out.splitlines()[1].split()
    assert row[:7] == [
        "acme",
        "acme",
        stack.sim.cloud_ids["acme"],
        "dynamic",
        "active",
        "created",
        str(webhook["id"]),
    ]
    assert row[-1] == "30.0"
    assert f"url {stack.callback_url()}" in out and "filter 'project != null'" in out
    assert _recorded(stack) == {webhook["id"]}  # the receiver accepts this webhook's deliveries

    code, out, _ = cli("create", "--site", "acme")
    assert code == 0 and " unchanged " in out
    assert len(stack.list_webhooks("acme")) == 1

    stack.advance_days(25)
    code, out, _ = cli("list")
    assert code == 0
    assert " expiring " in out and out.splitlines()[1].split()[-1] == "5.0"

    code, out, _ = cli("refresh", "--tenant", "acme")
    assert code == 0
    assert " refreshed " in out and out.splitlines()[1].split()[-1] == "30.0"

    code, out, _ = cli("delete")
    assert code == 0 and f"deleted webhooks {webhook['id']}" in out
    assert stack.list_webhooks("acme") == []
    assert _recorded(stack) == frozenset()

    code, out, _ = cli("list")
    assert code == 1 and " missing " in out  # monitoring scripts can rely on the exit code


def test_bad_names_config_and_environment_exit_2_with_a_clear_message(stack, cli, monkeypatch, capsys):
    code, _, err = cli("list", "--site", "nope")
    assert code == 2 and "site 'nope' is not in" in err and "sites: acme, globex" in err

    code, _, err = cli("list", "--tenant", "globex")
    assert code == 2 and "tenant 'globex' is not in" in err

    assert main(["list", "--config", str(stack.workdir / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err

    monkeypatch.delenv("JIRA_SECRET")
    code, _, err = cli("list")
    assert code == 2 and "JIRA_SECRET is not set" in err
    assert stack.sim.client_secret not in err


def test_refresh_without_a_webhook_fails_with_what_to_do(stack, cli):
    code, out, _ = cli("refresh")
    assert code == 1
    assert " error " in out and "run `jira-sync webhooks create`" in out
