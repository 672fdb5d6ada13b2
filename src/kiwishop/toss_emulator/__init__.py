"""Toss Payments emulator (8090): the confirm/lookup/cancel API and the payment window, state in memory.

Modules: ``errors`` (the Toss error table), ``domain`` (auth, amounts, test cards, payment states),
``store`` (payments, idempotency, counters), ``faults``, ``emulator`` (use cases), ``wire`` (the Payment
object), ``pipeline`` (how one API request is answered), ``api`` (/v1), ``window`` (SDK script and hosted
window), ``admin`` (/emulator controls), ``settings``, ``app``.
"""
