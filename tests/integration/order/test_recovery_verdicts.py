"""Payments in doubt: FAILURE only on the PSP's evidence — a key it never saw, once the authorisation window has
passed; an approval for another amount, once it is cancelled at the PSP.

Real MariaDB, the broker and the Toss emulator over HTTP; the order app runs its recovery worker. The orders that
stay in doubt, or end SUCCESS: test_recovery.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.integration.order.recovery_support import confirm_events, make_in_doubt, status_of
from tests.support import eventually, running_app


async def test_a_key_the_psp_never_saw_fails_only_after_the_authorisation_window(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator
) -> None:
    settings = order_settings(
        toss_api_url=emulator_url, psp_confirm_deadline_s=1.0, authorization_window_s=3.0,
        recovery_backoff_base_s=0.2, recovery_backoff_max_s=0.5, psp_max_attempts=1, psp_read_timeout_s=0.5,
    )  # fmt: skip
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [1])
        # The confirm's answer and its lookup are lost: in doubt (a refused key would simply be released).
        await emulator.faults(faultTimeoutRate=1.0, faultLookups=True, hangS=1.0)
        response = await confirm(order, "tgen_made_up_key_0001", created["orderId"], created["amount"])
        assert response.status_code == 202, response.text
        await emulator.faults(faultTimeoutRate=0.0, faultLookups=False)
        started = time.monotonic()  # from now on the PSP says "no such payment": evidence, not yet a verdict
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "FAILURE", timeout_s=20
        )
        assert time.monotonic() - started >= 2.0
    assert result["failure"]["code"] == "NOT_FOUND_PAYMENT"


@pytest.mark.parametrize("cancel_fails_first", [False, True])
async def test_an_approval_for_another_amount_is_cancelled_at_the_psp_before_the_order_fails(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    cancel_fails_first: bool,
) -> None:
    settings = order_settings(toss_api_url=emulator_url, quarantine_recheck_s=1.0, psp_max_attempts=1)
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [1, 2])  # 3,000 won
        key = await emulator.authorise(created["orderId"], 2500)  # the buyer was charged another amount
        done = await emulator.client.post(
            "/v1/payments/confirm",
            json={"paymentKey": key, "orderId": created["orderId"], "amount": 2500},
            auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""),
        )
        assert done.json()["status"] == "DONE"
        canceled_before = int((await emulator.stats())["canceled"])
        if cancel_fails_first:
            await emulator.faults(fault5xxRate=1.0)  # POSTs fail, lookups still answer
        await make_in_doubt(order_db, created["orderId"], key)
        if cancel_fails_first:
            await eventually(
                lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "QUARANTINED", timeout_s=20
            )
            await emulator.faults(fault5xxRate=0.0)
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "FAILURE", timeout_s=20
        )
        lookup = await emulator.client.get(f"/v1/payments/{key}", auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""))
    assert result["failure"]["code"] == "PSP_AMOUNT_MISMATCH"
    assert lookup.json()["status"] == "CANCELED"
    assert int((await emulator.stats())["canceled"]) == canceled_before + 1  # cancelled exactly once
    assert await confirm_events(order_db, created["orderId"]) == 0
