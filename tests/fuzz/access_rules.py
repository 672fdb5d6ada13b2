"""Who may call what: one rule per route of every service (tests/fuzz/test_access_matrix.py runs them).

A rule names the callers that get past the door and the request that tries it. The callers are anonymous,
member 1 (the owner of everything the requests name), member 2, seller 1 (ditto), seller 2, ops; the Toss
emulator's controls have their admin token and its Toss API the merchant's secret key instead. A caller not
allowed gets 401 without a token (a page: the login) and 403 with the wrong one; an allowed caller gets
anything but 401/403. A route no rule names fails the matrix: a new route comes with its rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANON, M1, M2, S1, S2, OPS = "anonymous", "member 1", "member 2", "seller 1", "seller 2", "ops"
ADMIN, MERCHANT = "emulator admin", "merchant"
EVERYONE = frozenset({ANON, M1, M2, S1, S2, OPS})
TOKENS = frozenset({M1, M2, S1, S2, OPS})
OPEN = frozenset({"GET /health/live", "GET /health/ready", "GET /metrics", "GET /docs", "GET /redoc",
                  "GET /openapi.json", "GET /docs/assets"})  # fmt: skip


@dataclass(frozen=True)
class World:
    """What the requests name: member 1's orders (one paid to read, one paid to cancel, one unpaid), its
    review, a seller registration and a product."""

    paid_order: str
    paid_line: int  # a paymentOrderNo of paid_order
    payment_event_no: int
    cancel_order: str
    unpaid_order: str
    review_no: int
    registration_id: int


Request = Callable[[World], dict[str, Any]]  # httpx.request keyword arguments: url, json, params, data


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    request: Request
    page: bool = False  # the shop's pages: a session cookie instead of a bearer token, a CSRF value on a POST
    callers: frozenset[str] = field(default=EVERYONE)
    wrong_caller: int = 403  # the Toss API answers a key that isn't the merchant's 401, as Toss does
    # A page may refuse another member's order as an unknown one (nothing said about whose it is): a 303 back
    # to the page whose Location carries this.
    hidden_refusal: str | None = None


def at(url: str, **kwargs: Any) -> Request:
    return lambda _: {"url": url, **kwargs}


OUTBOX = Rule(frozenset({OPS}), at("/api/ops/outbox"))  # every service with an outbox (platform/ops_api.py)


def member_1_product(w: World) -> dict[str, Any]:
    return {"url": "/api/catalog-likes/products/1/members/1"}


ORDER = {
    "POST /api/checkout": Rule(frozenset({M1}), at("/api/checkout", json={"memberNo": 1, "productNoList": [1]})),
    "POST /api/payments/confirm": Rule(frozenset({M1}), lambda w: {"url": "/api/payments/confirm", "json": {
        "paymentKey": "tviva_not_a_real_key_000", "orderId": w.unpaid_order, "amount": 1000}}),
    "POST /api/payments/{orderId}/cancel": Rule(frozenset({M1, OPS}), lambda w: {
        "url": f"/api/payments/{w.cancel_order}/cancel", "json": {"cancelReason": "matrix"}}),
    "POST /api/webhooks/toss": Rule(EVERYONE, lambda w: {"url": "/api/webhooks/toss", "json": {
        "eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-30T00:00:00",
        "data": {"orderId": w.paid_order, "paymentKey": "tviva_not_a_real_key_000", "status": "DONE"}}}),
    "GET /api/ops/outbox": OUTBOX,
    "GET /api/payments/{orderId}": Rule(frozenset({M1, OPS}), lambda w: {"url": f"/api/payments/{w.paid_order}"}),
    "GET /api/orders": Rule(frozenset({M1, OPS}), lambda w: {"url": "/api/orders", "params": {
        "orderId": w.paid_order}}),
    "GET /api/orders/members/{memberNo}": Rule(frozenset({M1, OPS}), at("/api/orders/members/1")),
    "GET /api/orders/payment-events/{paymentEventNo}/members/{memberNo}": Rule(frozenset({M1, OPS}), lambda w: {
        "url": f"/api/orders/payment-events/{w.payment_event_no}/members/1"}),
    # the shop's pages
    "GET /": Rule(EVERYONE, at("/"), page=True),
    "GET /fail": Rule(EVERYONE, at("/fail", params={"code": "PAY_PROCESS_CANCELED", "message": "x"}), page=True),
    "GET /login": Rule(EVERYONE, at("/login"), page=True),
    "POST /login": Rule(EVERYONE, at("/login", data={"loginId": "member1", "password": "member1-password",
                                                     "next": "/"}), page=True),
    "POST /logout": Rule(EVERYONE, at("/logout", data={}), page=True),
    # a page acts as whoever is logged in: any member buys and reads their own orders, any seller their page
    "POST /checkout": Rule(frozenset({M1, M2}), at("/checkout", data={"productNoList": "1"}), page=True),
    "GET /success": Rule(frozenset({M1}), lambda w: {"url": "/success", "params": {
        "paymentKey": "tviva_not_a_real_key_000", "orderId": w.unpaid_order, "amount": 1000}}, page=True),
    "GET /success/status": Rule(frozenset({M1}), lambda w: {"url": "/success/status", "params": {
        "orderId": w.paid_order}}, page=True),
    "GET /my/orders": Rule(frozenset({M1, M2}), at("/my/orders"), page=True),
    "POST /my/orders/cancel": Rule(frozenset({M1}), lambda w: {"url": "/my/orders/cancel", "data": {
        "orderId": w.paid_order, "paymentOrderNo": str(w.paid_line)}}, page=True, hidden_refusal="error=PEC0004"),
    "GET /seller": Rule(frozenset({S1, S2}), at("/seller"), page=True),
    # the console's payments (ops tokens only); an order nobody has: past the door, order answers 404
    "GET /api/ops/payments": Rule(frozenset({OPS}), at("/api/ops/payments")),
    "POST /api/ops/payments/{orderId}/recheck": Rule(frozenset({OPS}), at("/api/ops/payments/matrix-order-1/recheck")),
    "POST /api/ops/payments/{orderId}/cancel-at-psp": Rule(frozenset({OPS}), at(
        "/api/ops/payments/matrix-order-1/cancel-at-psp", json={"reason": "matrix"})),
}  # fmt: skip

ORDER_QUERY = {
    "GET /api/orders/members/{memberNo}": Rule(frozenset({M1, OPS}), at("/api/orders/members/1")),
    "GET /api/orders/payment-events/{paymentEventNo}/members/{memberNo}": Rule(frozenset({M1, OPS}), lambda w: {
        "url": f"/api/orders/payment-events/{w.payment_event_no}/members/1"}),
    "GET /api/orders/sellers/{sellerNo}": Rule(frozenset({S1, OPS}), at("/api/orders/sellers/1")),
}  # fmt: skip

CATALOG = {
    "GET /products": Rule(EVERYONE, at("/products", params={"productNoList": "1"})),
    "GET /api/products": Rule(EVERYONE, at("/api/products")),
    "GET /products/{productNo}": Rule(EVERYONE, at("/products/1")),
    "POST /api/products": Rule(frozenset({S1}), lambda w: {"url": "/api/products", "json": {
        "sellerNo": 1, "productId": f"matrix-{w.registration_id}", "name": "매트릭스", "price": 1000}}),
}  # fmt: skip

LIKES = {
    "GET /api/ops/outbox": OUTBOX,
    "POST /api/catalog-likes/products/{productNo}/members/{memberNo}": Rule(frozenset({M1}), member_1_product),
    "DELETE /api/catalog-likes/products/{productNo}/members/{memberNo}": Rule(frozenset({M1}), member_1_product),
    "GET /api/catalog-likes/products/{productNo}/members/{memberNo}": Rule(frozenset({M1, OPS}), member_1_product),
    "GET /api/catalog-likes/products/{productNo}": Rule(EVERYONE, at("/api/catalog-likes/products/1")),
}

REVIEWS = {
    "GET /api/ops/outbox": OUTBOX,
    "POST /api/product-reviews": Rule(frozenset({M1}), at("/api/product-reviews", json={
        "productNo": 1, "memberNo": 1, "title": "좋아요", "content": "매트릭스", "starRatingType": "FIVE"})),
    "DELETE /api/product-reviews/{productReviewNo}": Rule(frozenset({M1, OPS}), lambda w: {
        "url": f"/api/product-reviews/{w.review_no}"}),
    "GET /api/product-reviews/products/{productNo}": Rule(EVERYONE, at("/api/product-reviews/products/1")),
    "GET /api/product-reviews/products/{productNo}/summary": Rule(EVERYONE, at(
        "/api/product-reviews/products/1/summary")),
}  # fmt: skip

WALLET = {
    "GET /api/ops/outbox": OUTBOX,
    "GET /api/wallets/sellers/{sellerNo}": Rule(frozenset({S1, OPS}), at("/api/wallets/sellers/1")),
    "GET /api/wallets/sellers/{sellerNo}/transactions": Rule(frozenset({S1, OPS}), at(
        "/api/wallets/sellers/1/transactions")),
}  # fmt: skip

SELLER = {
    "GET /api/ops/outbox": OUTBOX,
    "GET /api/ops/registrations": Rule(frozenset({OPS}), at("/api/ops/registrations")),
    "POST /api/sellers": Rule(EVERYONE, lambda w: {"url": "/api/sellers", "json": {"sellerId": "matrix-seller"}}),
    # the registrant seller may read it too; no caller here is that seller
    "GET /api/sellers/registrations/{registrationId}": Rule(frozenset({OPS}), lambda w: {
        "url": f"/api/sellers/registrations/{w.registration_id}"}),
    "GET /api/sellers/{sellerNo}": Rule(frozenset({S1, OPS}), at("/api/sellers/1")),
}  # fmt: skip

HOT = {"GET /api/hot-products": Rule(EVERYONE, at("/api/hot-products"))}

IDENTITY = {
    "POST /api/auth/token": Rule(EVERYONE, at("/api/auth/token", json={"loginId": "member1",
                                                                       "password": "member1-password"})),
    "GET /api/auth/me": Rule(TOKENS, at("/api/auth/me")),
    "GET /.well-known/jwks.json": Rule(EVERYONE, at("/.well-known/jwks.json")),
}  # fmt: skip

EMULATOR_CALLERS = frozenset({ANON, M1, OPS, ADMIN, MERCHANT})
PAY = {"orderId": "matrix-order-1", "amount": 1000, "orderName": "매트릭스"}
EMULATOR = {
    "POST /emulator/payments": Rule(EMULATOR_CALLERS, at("/emulator/payments", json=PAY), callers=EMULATOR_CALLERS),
    "GET /emulator/window": Rule(EMULATOR_CALLERS, at("/emulator/window"), callers=EMULATOR_CALLERS),
    "POST /emulator/window": Rule(EMULATOR_CALLERS, at("/emulator/window", data={}), callers=EMULATOR_CALLERS),
    "GET /v1/payment": Rule(EMULATOR_CALLERS, at("/v1/payment"), callers=EMULATOR_CALLERS),
    **{
        route: Rule(frozenset({ADMIN}), at(url, **kw), callers=EMULATOR_CALLERS)
        for route, url, kw in (
            ("GET /emulator/faults", "/emulator/faults", {}),
            ("PUT /emulator/faults", "/emulator/faults", {"json": {}}),
            ("GET /emulator/stats", "/emulator/stats", {}),
            ("POST /emulator/clock", "/emulator/clock", {"json": {"advanceS": 0}}),
            ("POST /emulator/payments/{paymentKey}/approve-outside", "/emulator/payments/nokey/approve-outside", {}),
            ("POST /emulator/payments/{paymentKey}/cancel-outside", "/emulator/payments/nokey/cancel-outside",
             {"json": {"cancelReason": "matrix"}}),
        )
    },
    # the Toss API: the merchant's secret key (Basic), never a shop token
    **{
        route: Rule(frozenset({MERCHANT}), at(url, **kw), callers=EMULATOR_CALLERS, wrong_caller=401)
        for route, url, kw in (
            ("POST /v1/payments/confirm", "/v1/payments/confirm",
             {"json": {"paymentKey": "nokey", "orderId": "matrix-order-1", "amount": 1000}}),
            ("GET /v1/payments/orders/{orderId}", "/v1/payments/orders/matrix-order-1", {}),
            ("GET /v1/payments/{paymentKey}", "/v1/payments/nokey", {}),
            ("POST /v1/payments/{paymentKey}/cancel", "/v1/payments/nokey/cancel", {"json": {"cancelReason": "m"}}),
        )
    },
}  # fmt: skip
# The ops console: ops only, its pages as the shop's (the login page and form for everyone). A topic and an order
# nobody has: past the door, the answer is a 404.
NO_TOPIC = "matrix-no-such-topic"
CONSOLE = {
    "GET /api/ops/overview": Rule(frozenset({OPS}), at("/api/ops/overview")),
    "GET /api/ops/dead-letters/{topic}": Rule(frozenset({OPS}), at(f"/api/ops/dead-letters/{NO_TOPIC}")),
    "POST /api/ops/dead-letters/{topic}/redrive": Rule(frozenset({OPS}), at(
        f"/api/ops/dead-letters/{NO_TOPIC}/redrive")),
    "POST /api/ops/payments/{orderId}/recheck": Rule(frozenset({OPS}), at("/api/ops/payments/matrix-order-1/recheck")),
    "POST /api/ops/payments/{orderId}/cancel-at-psp": Rule(frozenset({OPS}), at(
        "/api/ops/payments/matrix-order-1/cancel-at-psp", json={"reason": "matrix"})),
    "POST /api/ops/reconcile": Rule(frozenset({OPS}), at("/api/ops/reconcile")),
    "GET /api/ops/audit": Rule(frozenset({OPS}), at("/api/ops/audit")),
    "GET /": Rule(frozenset({OPS}), at("/"), page=True),
    "GET /login": Rule(EVERYONE, at("/login"), page=True),
    "POST /login": Rule(EVERYONE, at("/login", data={"loginId": "ops", "password": "ops-password", "next": "/"}),
                        page=True),
    "POST /logout": Rule(EVERYONE, at("/logout", data={}), page=True),
    "GET /dead-letters/{topic}": Rule(frozenset({OPS}), at(f"/dead-letters/{NO_TOPIC}"), page=True),
    "POST /dead-letters/{topic}/redrive": Rule(frozenset({OPS}), at(f"/dead-letters/{NO_TOPIC}/redrive", data={}),
                                               page=True),
    "POST /payments/{orderId}/recheck": Rule(frozenset({OPS}), at("/payments/matrix-order-1/recheck", data={}),
                                             page=True),
    "POST /payments/{orderId}/cancel-at-psp": Rule(frozenset({OPS}), at(
        "/payments/matrix-order-1/cancel-at-psp", data={"reason": "matrix", "confirm": "yes"}), page=True),
    "GET /reconcile": Rule(frozenset({OPS}), at("/reconcile"), page=True),
    "POST /reconcile": Rule(frozenset({OPS}), at("/reconcile", data={}), page=True),
    "GET /audit": Rule(frozenset({OPS}), at("/audit"), page=True),
}  # fmt: skip
# /emulator/reset wipes every payment the other fuzz tests use: its door is tried by tests/integration/toss_emulator
SKIPPED = {"toss_emulator": {"POST /emulator/reset"}}

RULES: dict[str, dict[str, Rule]] = {
    "order": ORDER, "order_query": ORDER_QUERY, "catalog": CATALOG, "catalog_like": LIKES,
    "catalog_review": REVIEWS, "wallet": WALLET, "seller": SELLER, "hot_catalog": HOT, "identity": IDENTITY,
    "toss_emulator": EMULATOR, "console": CONSOLE,
}  # fmt: skip
