"""catalog-like (8086): a member likes or unlikes a product; per-product like counts; PRODUCT_LIKED /
PRODUCT_UNLIKED events through the outbox, keyed by productNo, carrying the post-change count and the
count row's version."""
