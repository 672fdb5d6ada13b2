"""wallet (8082): seller wallets — creation for the seller registration saga, exact idempotent settlement of
paid orders (PAYMENT_CONFIRM), balance and transaction read APIs."""
