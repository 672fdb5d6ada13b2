"""Helpers for test_reconcile.py: running ``kiwishop reconcile``, reading its DISCREPANCY lines by check, the SQL
that makes and undoes a fault (rows set aside and put back), and a PSP that cannot answer about one order."""

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
PAID = "(SUCCESS|PARTIAL_CANCELED|CANCELED)"
CHECKS = {
    "psp-unanswered": re.compile(r"the PSP could not be asked about order (?P<order>\S+)$"),
    "psp-vs-order": re.compile(r"order (?P<order>\S+): the PSP approved \S+, the order is "),
    "psp-cancels-vs-order": re.compile(
        r"order (?P<order>\S+): the PSP canceled \S+ and holds \S+, the order's lines CANCELED \S+ and not \S+$"
    ),
    "success-without-psp": re.compile(rf"order (?P<order>\S+): {PAID} \S+, but the PSP approved nothing$"),
    "unsettled": re.compile(rf"order (?P<order>\S+): {PAID} since \S+ but not settled$"),
    "stuck": re.compile(r"order (?P<order>\S+): stuck in (EXECUTING|UNKNOWN) since "),
    "cancel-stuck": re.compile(r"order (?P<order>\S+): cancel \d+ stuck in (EXECUTING|UNKNOWN) since "),
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


def seller_line(base: str = "10000.00", **changed: str) -> str:
    """Seller 1's column values: ``base`` everywhere (three orders of 6,000, of which 8,000 given back), held 0, but
    for ``changed``."""
    values = {"psp": base, "success_lines": base, "ledger": base, "balance": base, "held": "0.00", **changed}
    return ", ".join(f"{k} {v}" for k, v in values.items())


async def execute(infra: InfraSettings, db_name: str, *statements: str, **params: object) -> None:
    """``statements`` in one transaction, each with the ``params`` it names."""
    db = Database.connect(infra, db_name)
    try:
        async with db.uow() as uow:
            for sql in statements:
                await uow.conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
            await uow.commit()
    finally:
        await db.close()


@dataclass
class Aside:
    """Rows of ``table`` taken out (``take``) and put back as they were (``put_back``)."""

    infra: InfraSettings
    db_name: str
    table: str
    where: str
    params: dict[str, object]
    rows: list[dict[str, object]] = field(default_factory=list)

    async def take(self) -> None:
        db = Database.connect(self.infra, self.db_name)
        try:
            async with db.uow() as uow:
                found = await uow.conn.execute(text(f"SELECT * FROM {self.table} WHERE {self.where}"), self.params)
                self.rows = [dict(row._mapping) for row in found]
                assert self.rows, f"nothing in {self.table} where {self.where} {self.params}"
                await uow.conn.execute(text(f"DELETE FROM {self.table} WHERE {self.where}"), self.params)
                await uow.commit()
        finally:
            await db.close()

    async def put_back(self) -> None:
        columns = list(self.rows[0])
        sql = f"INSERT INTO {self.table} ({', '.join(columns)}) VALUES ({', '.join(f':{c}' for c in columns)})"
        db = Database.connect(self.infra, self.db_name)
        try:
            async with db.uow() as uow:
                await uow.conn.execute(text(sql), self.rows)
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
    lines: list[str] = field(default_factory=list)  # DISCREPANCY lines that must be printed word for word
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
