"""Toss Payments emulator (8090): the confirm/lookup/cancel API, the payment window and webhooks; state in
memory or in a SQLite state file (``KIWI_TOSS_EMULATOR_DATA_PATH``).

Modules: ``errors`` (the Toss error table), ``domain`` (auth, amounts, test cards, payment states), ``cancels``,
``store`` (payments, idempotency, counters), ``statefile``, ``codec`` and ``filestore`` (the same state in
a file), ``faults``, ``emulator`` (use cases), ``wire`` (the Payment object), ``webhooks`` (a delivery per
status change, the retry ladder) and ``sender`` (the background POSTs), ``pipeline`` (how one API request is
answered), ``api`` (/v1), ``window`` (SDK script and hosted window) and ``origins`` (where it may redirect),
``admin`` (/emulator controls, behind the admin token), ``bounds`` (the stores' caps), ``settings``, ``app``.
"""
