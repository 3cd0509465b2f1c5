"""Build the world a server (or `truth`) works on: generated, or from a scenario file."""

from __future__ import annotations

from pathlib import Path

from jira_simulator.generator import DEFAULT_ISSUES, DEFAULT_SEED, generate_world
from jira_simulator.model import OAuthApp, World
from jira_simulator.options import SimulatorOptions
from jira_simulator.scenario import load_scenario


def build_world(
    *,
    issues: int | None = None,
    seed: int | None = None,
    scenario: Path | None = None,
    options: SimulatorOptions | None = None,
) -> World:
    """A generated world (`issues`, `seed`), or the world a scenario file spells out.

    The OAuth app and the admin's API token come from `options`, so the same data can be served
    with other credentials.
    """
    options = options or SimulatorOptions()
    app = OAuthApp(options.client_id, options.client_secret)
    if scenario is not None:
        if issues is not None:
            raise ValueError(
                "--issues cannot be combined with --scenario; the scenario file says what to build"
            )
        world = load_scenario(scenario, seed=seed, api_token=options.api_token, app=app)
    else:
        world = generate_world(
            DEFAULT_ISSUES if issues is None else issues,
            DEFAULT_SEED if seed is None else seed,
            api_token=options.api_token,
            app=app,
        )
    return world
