"""seller (8083): seller registration, a saga with wallet (8082) over Kafka, with a sweeper for timeouts;
announces every seller's lifecycle (SELLER_REGISTERED / SELLER_DEREGISTERED) for the services that sell."""
