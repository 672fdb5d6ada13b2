"""Order's use cases that write, each owning its unit of work and needing only ports (``order/ports.py``):

- ``checkout``: ``checkout`` — the products from catalog, then the order in one transaction;
- ``confirm``: ``ConfirmPayment`` — the buyer's confirm: start (tx1), ask the PSP to approve, record;
- ``verdict``: ``RecordVerdict`` — from a PSP answer to the recorded verdict (tx2), for confirm and recovery;
- ``recovery``: ``RecoverPayments`` — one recovery pass over the orders in doubt that are due;
- ``settlement``: ``RepublishUnsettled`` — one pass re-publishing PAYMENT_CONFIRM of paid orders wallet has
  not settled yet;
- ``wallet_result``: ``record_wallet_settled`` — WALLET_SETTLED marks the order settled.

The loops that run the passes are in ``order/workers.py``.
"""
