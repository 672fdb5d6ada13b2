"""Order's use cases that write, each owning its unit of work and needing only ports (``order/ports.py``):

- ``checkout``: ``checkout`` — the products from catalog, then the order in one transaction;
- ``confirm``: ``ConfirmPayment`` — the buyer's confirm: start (tx1), ask the PSP to approve, record;
- ``verdict``: ``RecordVerdict`` — from a PSP answer to the recorded verdict (tx2), for confirm and recovery;
- ``recovery``: ``RecoverPayments`` — one recovery pass over the orders in doubt that are due;
- ``settlement``: ``RepublishUnsettled`` — one pass re-publishing PAYMENT_CONFIRM of paid orders wallet has
  not settled yet;
- ``wallet_result``: ``record_wallet_settled`` — WALLET_SETTLED marks the order settled;
- ``cancel``: ``CancelPayment`` — give lines of a paid order back: record the cancel (tx1), ask the PSP, record;
- ``cancel_record``: ``RecordCancel`` — from a PSP answer to a cancel to its record (tx2), for cancel and recovery;
- ``cancel_recovery``: ``RecoverCancels`` — one pass over the cancels in doubt that are due;
- ``webhook``: ``SyncFromPsp`` — a Toss webhook: the payment read again at the PSP, the order moved forward.

The loops that run the passes are in ``order/workers.py``.
"""
