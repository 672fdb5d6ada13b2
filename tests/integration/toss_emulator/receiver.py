"""A tiny webhook receiver for the emulator's webhook tests: records each POST (when, what) and answers the
scripted statuses in turn, then 200."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response

from tests.support import served_app

PATH = "/api/webhooks/toss"


@dataclass(frozen=True)
class Call:
    at: float  # time.monotonic() on arrival
    body: dict[str, Any]
    answered: int


class Receiver:
    def __init__(self, statuses: Iterable[int] = (), *, delay_s: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.delay_s = delay_s
        self.calls: list[Call] = []
        self.url = ""

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post(PATH)
        async def receive(request: Request) -> Response:
            status = self.statuses.pop(0) if self.statuses else 200
            self.calls.append(Call(time.monotonic(), json.loads(await request.body()), status))
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            return Response(status_code=status)

        return app

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """The bodies answered with 200, in arrival order."""
        return [call.body for call in self.calls if call.answered == 200]

    def statuses_delivered(self) -> list[str]:
        return [body["data"]["status"] for body in self.delivered]


@asynccontextmanager
async def receiving(receiver: Receiver) -> AsyncIterator[Receiver]:
    """Serve the receiver over real HTTP; ``receiver.url`` is its webhook URL meanwhile."""
    async with served_app(receiver.app()) as base:
        receiver.url = base + PATH
        yield receiver
