"""wallet (8082): seller wallets and exact, idempotent settlement of paid orders. Built in issue 5."""
