"""A loopback TCP load balancer for the scale-out tests: each new connection goes to the next
receiver in turn; a receiver that refuses the connection (killed) is skipped, as a load balancer's
health check would, and the connection goes to the next one."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter

from tests.webhook_receiver.receiver_servers import free_port


class RoundRobin:
    """`with RoundRobin([port, ...]) as balancer:` serves `balancer.base_url` on its own thread."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = list(ports)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.connections: Counter[int] = Counter()  # per receiver port
        self.refused: Counter[int] = Counter()
        self._next = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="round-robin", daemon=True)

    def __enter__(self) -> RoundRobin:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the round robin did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.run_until_complete(server.wait_closed())
            self._loop.close()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        for _ in range(len(self.ports)):
            port = self.ports[self._next % len(self.ports)]
            self._next += 1
            try:
                streams = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                self.refused[port] += 1
                continue
            self.connections[port] += 1
            return streams
        raise ConnectionRefusedError("no receiver accepts connections")

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            backend_reader, backend_writer = await self._connect()
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, backend_writer), _pipe(backend_reader, client_writer), return_exceptions=True
        )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.close()
