"""catalog-review (8085): members review products (title, content, one to five stars) and delete their
reviews (soft delete); per-product review count and star sum; PRODUCT_CREATED_REVIEW /
PRODUCT_DELETED_REVIEW events through the outbox, keyed by productNo, carrying the post-change totals and
the count row's version."""
