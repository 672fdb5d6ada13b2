"""Property: random orders across sellers, delivered with duplicates, re-emissions and in shuffled order by
concurrent consumers (two handler instances, each with its own connection pool, two workers each)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.consumers import settlement_handler
from tests.integration.seller_wallet.support import IDS, WALLET_DB, add_wallet, database, payment_confirm, rows

SELLERS = 4
line = st.tuples(
    st.integers(min_value=0, max_value=SELLERS - 1),  # which seller
    st.integers(min_value=1, max_value=10_000_000),  # cents: 0.01 … 100,000.00
    st.sampled_from(["SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "UNKNOWN"]),
)
order = st.tuples(st.lists(line, min_size=1, max_size=4), st.integers(min_value=1, max_value=3), st.booleans())
orders = st.lists(order, min_size=1, max_size=12)


async def deliver(handlers: list[object], deliveries: list[Envelope]) -> None:
    queue: asyncio.Queue[Envelope] = asyncio.Queue()
    for d in deliveries:
        queue.put_nowait(d)

    async def worker(handler: object) -> None:
        while not queue.empty():
            env = queue.get_nowait()
            for attempt in range(4):  # like the consumer runner: a failed delivery is tried again
                try:
                    await handler(env)  # type: ignore[operator]
                    break
                except Exception:
                    if attempt == 3:
                        raise
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(worker(h) for h in handlers for _ in range(2)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=orders, shuffle=st.randoms(use_true_random=False))
async def test_every_balance_is_the_sum_of_its_success_lines_and_every_success_line_is_one_credit_row(
    infra: InfraSettings,
    wallet_schema: str,
    orders: list[tuple[list[tuple[int, int, str]], int, bool]],
    shuffle: object,
) -> None:
    sellers = [IDS.next_id() for _ in range(SELLERS)]
    async with database(infra, WALLET_DB) as db_a, database(infra, WALLET_DB) as db_b:
        wallets = {s: await add_wallet(db_a, s) for s in sellers}
        expected = {s: Decimal("0.00") for s in sellers}
        expected_rows: set[tuple[int, int, Decimal, str]] = set()
        deliveries: list[Envelope] = []
        for lines, copies, re_emitted in orders:
            order_id = f"prop-{IDS.next_id()}"
            priced = [(IDS.next_id(), sellers[i], Decimal(cents) / 100, status) for i, cents, status in lines]
            event = payment_confirm(order_id, [(no, s, str(a), st_) for no, s, a, st_ in priced])
            deliveries += [event] * copies
            if re_emitted:  # the producer sent the same order again under a new event id
                deliveries.append(payment_confirm(order_id, [(no, s, str(a), st_) for no, s, a, st_ in priced]))
            for no, s, amount, status in priced:
                if status == "SUCCESS":
                    expected[s] += amount
                    expected_rows.add((wallets[s], no, amount, f"settle:{order_id}:{no}"))
        shuffle.shuffle(deliveries)  # type: ignore[attr-defined]
        handlers = [
            settlement_handler(db, Outbox(Snowflake(node)), Snowflake(node + 1))
            for db, node in ((db_a, 980), (db_b, 982))
        ]
        await deliver(handlers, deliveries)
        found = await rows(
            db_a,
            "SELECT w.seller_no, w.balance, t.wallet_no, t.reference_id, t.amount, t.idempotency_key, t.type"
            " FROM wallets w LEFT JOIN wallet_transactions t ON t.wallet_no = w.wallet_no"
            " WHERE w.seller_no IN :sellers",
            sellers=tuple(sellers),
        )
    assert {r.seller_no: r.balance for r in found} == expected
    credit_rows = [(r.wallet_no, r.reference_id, r.amount, r.idempotency_key) for r in found if r.wallet_no]
    assert len(credit_rows) == len(expected_rows)
    assert set(credit_rows) == expected_rows
    assert {r.type for r in found if r.wallet_no} <= {"CREDIT"}
