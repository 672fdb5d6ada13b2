"""hot-catalog (8084): the hot-products ranking fed by like, review and payment events. Built in issue 6."""
