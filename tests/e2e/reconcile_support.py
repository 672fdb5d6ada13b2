"""Helpers for test_reconcile.py: running ``kiwishop reconcile``, reading its DISCREPANCY lines by check, the SQL
that makes and undoes a fault, and a PSP that cannot answer about one order."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy import text

from kiwishop import cli
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings


async def scalar(infra: InfraSettings, db_name: str, sql: str) -> object:
    db = Database.connect(infra, db_name)
    try:
        async with db.engine.connect() as conn:
            return (await conn.execute(text(sql))).scalar()
    finally:
        await db.close()


# One line per check reconcile makes (ops/reconcile.py), by the words of its DISCREPANCY line.
CHECKS = {
    "psp-unanswered": re.compile(r"the PSP could not be asked about order (?P<order>\S+)$"),
    "psp-vs-order": re.compile(r"order (?P<order>\S+): the PSP approved \S+, the order is "),
    "success-without-psp": re.compile(r"order (?P<order>\S+): SUCCESS \S+, but the PSP approved nothing$"),
    "unsettled": re.compile(r"order (?P<order>\S+): SUCCESS since \S+ but not settled$"),
    "stuck": re.compile(r"order (?P<order>\S+): stuck in (EXECUTING|UNKNOWN) since "),
    "quarantined": re.compile(r"order (?P<order>\S+): QUARANTINED since "),
    "seller": re.compile(r"seller (?P<seller>\d+): (?P<values>.*)$"),
}


def caught(output: str) -> list[tuple[str, str]]:
    """(check, the rest) of every DISCREPANCY line: the order id, or for a seller its column values."""
    found = []
    for line in output.splitlines():
        if not line.startswith("DISCREPANCY: "):
            continue
        problem = line.removeprefix("DISCREPANCY: ")
        for name, pattern in CHECKS.items():
            match = pattern.match(problem)
            if match:
                found.append((name, match.group("order") if name != "seller" else match.group("values")))
                break
        else:
            found.append(("?", problem))
    return found


def seller_line(**changed: str) -> str:
    """Seller 1's column values: 18,000.00 everywhere (three orders of 6,000), held 0, but for ``changed``."""
    values = {"psp": "18000.00", "success_lines": "18000.00", "ledger": "18000.00", "balance": "18000.00",
              "held": "0.00", **changed}  # fmt: skip
    return ", ".join(f"{k} {v}" for k, v in values.items())


async def execute(infra: InfraSettings, db_name: str, sql: str, **params: object) -> None:
    db = Database.connect(infra, db_name)
    try:
        async with db.uow() as uow:
            await uow.conn.execute(text(sql), params)
            await uow.commit()
    finally:
        await db.close()


def psp_that_cannot_answer_about(order_id: str, psp_url: str) -> FastAPI:
    """The PSP seen through a proxy that answers 503 to every question about ``order_id``."""
    app = FastAPI()

    @app.get("/{path:path}")
    async def forward(path: str, request: Request) -> Response:
        if path == f"v1/payments/orders/{order_id}":
            return Response(status_code=503)
        async with httpx.AsyncClient(base_url=psp_url) as client:
            answer = await client.get(f"/{path}", headers={"authorization": request.headers["authorization"]})
        return Response(answer.content, answer.status_code, media_type="application/json")

    return app


@dataclass
class Fault:
    name: str
    apply: Callable[[], Awaitable[None]]
    undo: Callable[[], Awaitable[None]]
    expected: list[tuple[str, str]]  # what reconcile must report, exactly
    psp_url: str | None = None  # reconcile asks this PSP instead (the failing proxy)
    args: list[str] = field(default_factory=list)


async def run_reconcile(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> tuple[int, str]:
    """``kiwishop reconcile`` in-process (in a thread: it runs its own event loop; the emulator it asks lives
    in this one) with the settings of ``env``; its exit status and what it printed."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def main() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = cli.main(["reconcile", *args])
        return status, out.getvalue()

    return await asyncio.to_thread(main)
