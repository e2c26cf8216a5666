"""The workers' event loop takes connections one at a time, so a burst is shared between workers."""

from __future__ import annotations

import asyncio
import itertools
import socket
from typing import Any

from engine.service.run import ACCEPT_PAUSE, TakeTurnsLoop


def _accept_times(loop: asyncio.AbstractEventLoop, clients: int) -> list[float]:
    """Open ``clients`` connections at once against a server on ``loop``; when each was accepted."""
    made: list[float] = []
    transports: list[asyncio.BaseTransport] = []
    problems: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: problems.append(context))

    class Count(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            made.append(loop.time())
            transports.append(transport)

    async def burst() -> None:
        server = await loop.create_server(Count, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        opened = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
        for _ in range(2000):
            if len(made) == clients:
                break
            await asyncio.sleep(0.001)
        server.close()  # while a pause is pending: the pause must not bring the closed socket back
        await server.wait_closed()
        await asyncio.sleep(ACCEPT_PAUSE * 3)
        for transport in transports:
            transport.close()
        for sock in opened:
            sock.close()
        await asyncio.sleep(0)

    try:
        loop.run_until_complete(burst())
    finally:
        loop.close()
    assert problems == []
    return made


def test_a_burst_is_taken_one_connection_per_turn() -> None:
    made = _accept_times(TakeTurnsLoop(), 5)
    assert len(made) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(made)]
    assert min(gaps) >= ACCEPT_PAUSE * 0.9, gaps


def test_asyncios_own_loop_takes_the_whole_burst_at_once() -> None:
    """Why TakeTurnsLoop exists: the plain loop accepts all pending connections in one turn."""
    made = _accept_times(asyncio.SelectorEventLoop(), 5)
    assert len(made) == 5 and max(made) - min(made) < ACCEPT_PAUSE
