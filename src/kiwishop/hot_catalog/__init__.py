"""hot-catalog (8084): the hot-products ranking, in Redis only (no SQL database, C13).

Consumes ``PRODUCT_LIKED``/``PRODUCT_UNLIKED`` (kiwi-shop-product-like), ``PRODUCT_CREATED_REVIEW``/
``PRODUCT_DELETED_REVIEW`` (kiwi-shop-product-review) and ``PAYMENT_CONFIRM`` (kiwi-shop-payment) as
consumer group ``hot-catalog-service`` from the earliest offset, and serves ``GET /api/hot-products``.

Window: **all-time**. score = 2·likes + 3·reviews + 5·star sum + ``payment_weight`` (default 10)·paid
order lines, where likes / reviews / star sum are the latest totals announced by catalog-like and
catalog-review (live likes, live reviews) and paid lines count every SUCCESS line of every confirmed
payment. Nothing resets at midnight (Asia/Seoul or otherwise) and no key expires, so a score never
forgets some of its inputs; the clock is injectable (``create_app(settings, clock=...)``) and
``domain.ranking_window`` is the single place a daily window would be chosen.

Each event is applied by one Lua script (``ranking.APPLY``): duplicate event ids and stale versions are
ignored, so redelivery or out-of-order delivery yields the same ranking; products whose score drops to
0 leave the ranking.
"""
