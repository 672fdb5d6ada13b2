"""The system report's definitions of what it measures (its last section)."""

DEFINITIONS = [
    "## Definitions", "",
    "- *fully settled payments/s*: orders paid in the phase whose wallet CREDIT rows were written inside the "
    "measured window, per second of the window; after the drain every paid order is `is_wallet_done = 1`. "
    "An order cancelled (in part or whole) after it was paid still counts: it was settled, and its cancel is "
    "taken back by DEBIT rows of its own.",
    "- *cancels*: after a confirm's 200, 15 % of the buyers cancel one line, 5 % the whole order, and a third of "
    "those who cancelled a line of an order with more lines cancel the rest at once (`cancel-rest`: order's PSP "
    "client waits out the PSP's one-cancel-per-second rule). `cancel` ok/s, p50 and p99 count answers 200; a 202 "
    "is followed up (`result`) until the order shows it.",
    "- *confirm→credited lag*: from the driver receiving the confirm's 200 to the `created_at` of the order's "
    "first CREDIT row (written in the settling transaction, ms precision).",
    "- *lost*: orders the PSP reports approved (`DONE`, `PARTIAL_CANCELED` or `CANCELED`; asked by orderId) "
    "without any CREDIT row after the drain.",
    "- *PSP p99*: the emulator's latency probed directly (a lookup answered after the configured delay).",
    "- The fast profile is a closed loop: every user waits for its answer before the next action, so latency "
    "includes queueing when the shop is saturated. The slow profile is an open loop: actions arrive at a set "
    "rate (Poisson; a little more than the actions/s the fast profile carried) whether or not earlier ones were "
    "answered, so its settled/s is what the shop carries while the PSP takes seconds per call, not users ÷ "
    "latency; arrivals refused by the driver's in-flight cap mean the shop was overloaded.", "",
]  # fmt: skip
