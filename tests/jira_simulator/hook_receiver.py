"""A scripted webhook endpoint the simulator delivers to in tests (served by the `receiver` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import anyio
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.jira_simulator.served import serve_app


@dataclass
class Receiver:
    """A webhook endpoint that answers from a script: '500', '400', 'slow' (beyond the timeout) or '200'."""

    script: list[str] = field(default_factory=list)
    received: list[tuple[dict[str, str], dict]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append(body)
        self.received.append((dict(request.headers), orjson.loads(body) if body else {}))
        action = self.script.pop(0) if self.script else "200"
        if action == "slow":
            await anyio.sleep(1.0)
        return Response(status_code=200 if action == "slow" else int(action))


@contextmanager
def serve_receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    with serve_app(Starlette(routes=[Route("/hook", hooks.hook, methods=["POST"])])) as url:
        yield hooks, f"{url}/hook"
